# Reference values of tests/test_features from the R packages EconGeo, REAT and geosphere.
#
# EconGeo and REAT are run from their sources (neither is installed here): give the checkouts.
#   Rscript tests/test_features/results/make_r_results.R ECONGEO_DIR REAT_DIR \
#       > tests/test_features/results/r_results.json
# Used for r_results.json (see results/__init__.py for the provenance of each block):
#   EconGeo 2.0 (DESCRIPTION Date 2023-04-01), github.com/PABalland/EconGeo commit
#     c87d958d06874b3810349b7ef2d1fddb462c7f75 (the 2.0 CRAN release, snake_case names);
#   REAT 3.0.3 (2021-08-24), github.com/cran/REAT commit 602f988441a73dc8b4f79e651027b508824c8e5d;
#   geosphere 1.5.18 (installed); R 4.2.2; jsonlite (numbers with 17 significant digits).
args <- commandArgs(trailingOnly = TRUE)
econgeo <- args[1]
reat <- args[2]
for (f in c("hoover_index", "locational_gini", "entropy", "relatedness_density", "location_quotient",
            "krugman_index", "Hachman", "Herfindahl")) {
  source(file.path(econgeo, "R", paste0(f, ".r")))
}
for (f in c("locq", "gini.conc", "herf", "krugman.spec", "growth", "shift.growth", "shift")) {
  source(file.path(reat, "R", paste0(f, ".R")))
}
library(geosphere)
library(jsonlite)
out <- list()
out$r_version <- R.version.string
out$geosphere_version <- as.character(packageVersion("geosphere"))

# -- concentration (tests/test_features/test_concentration.py)
pop <- c(10, 15, 20, 25, 30)
hmat <- cbind(x = c(0, 10, 10, 30, 50), I2 = pop, I3 = c(0, 0, 0, 0, 1), I4 = c(0, 0, 0, 1, 1))
out$hoover_index <- hoover_index(hmat, pop)$hoover_index  # EconGeo: round(100 H, 2)
gmat <- matrix(c(100, 0, 0, 0, 0, 0, 15, 5, 70, 10, 0, 20, 10, 20, 50, 0, 25, 30, 5, 40, 0, 40, 55, 5, 0),
               ncol = 5, byrow = TRUE, dimnames = list(paste0("R", 1:5), paste0("I", 1:5)))
out$locational_gini <- locational_gini(gmat)$Loc_gini
out$gini_conc <- gini.conc(c(500, 500, 1000, 7000, 1000), c(20000, 15000, 20000, 40000, 5000))

# -- diversification (test_diversification.py): EconGeo::entropy, base 2, rounded to 3 digits
dmat <- matrix(c(10, 30, 20, 25, 15, 0, 0, 50, 0, 0, 5, 5, 5, 5, 5), ncol = 5, byrow = TRUE)
out$entropy_bits <- unname(entropy(dmat))

# -- relatedness (test_relatedness.py): density with the hand proximity of the test's M
M <- matrix(c(1, 1, 0, 1, 0, 1, 1, 1, 0, 0, 0, 1), ncol = 3, byrow = TRUE)
phi <- matrix(c(0, 2/3, 1/3, 2/3, 0, 0, 1/3, 0, 0), ncol = 3, byrow = TRUE)
out$relatedness_density <- unname(relatedness_density(M, phi))

# -- specialization (test_specialization.py): the 3 x 3 worked example
E <- matrix(c(10, 0, 30, 30, 30, 0, 10, 30, 60), ncol = 3, byrow = TRUE)
out$location_quotient <- unname(location_quotient(E))
out$krugman_index <- unname(krugman_index(E))
out$hachman <- unname(hachman(E))
out$herfindahl <- unname(herfindahl(E))
out$herf_norm <- sapply(1:3, function(r) herf(E[r, ], coefnorm = TRUE))
out$krugman_spec_rest <- sapply(1:3, function(r) krugman.spec(E[r, ], colSums(E[-r, , drop = FALSE])))

# -- shift-share (test_dynamics.py): the example without the sector new to the town (REAT's
# regional share is 0 * Inf = NaN there)
e0 <- c(100, 50); e1 <- c(120, 40); n0 <- c(1000, 1000); n1 <- c(1100, 900)
out$shift_dunn <- as.vector(unlist(shift(e0, e1, n0, n1, shift.method = "Dunn", print.results = FALSE)$components))
out$shift_esteban <- as.vector(unlist(shift(e0, e1, n0, n1, shift.method = "Esteban", print.results = FALSE)$components))

# -- haversine (test_connectivity.py): Nashville -> Los Angeles, radius 6371.0088 km and 6372.8 km
out$dist_haversine_m <- c(distHaversine(c(-86.67, 36.12), c(-118.40, 33.94), r = 6371008.8),
                          distHaversine(c(-86.67, 36.12), c(-118.40, 33.94), r = 6372800))
# numbers printed with 17 significant digits (round-trip exact); a matrix as a list of its rows
exact <- function(x) {
  num <- function(v) paste0("[", paste(sprintf("%.17g", v), collapse = ", "), "]")
  if (is.matrix(x)) {
    structure(paste0("[", paste(apply(x, 1, num), collapse = ", "), "]"), class = "json")
  } else if (length(x) == 1) {
    structure(sprintf("%.17g", x), class = "json")
  } else {
    structure(num(x), class = "json")
  }
}
out <- lapply(out, function(x) if (is.numeric(x)) exact(x) else x)
cat(toJSON(out, auto_unbox = TRUE, pretty = TRUE, json_verbatim = TRUE), "\n")
