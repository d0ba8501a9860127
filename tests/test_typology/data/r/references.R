# Reference values of the typology estimator's tests, computed with R.
#
#   Rscript tests/test_typology/data/r/references.R tests/test_typology/data/r
#
# reads the input matrices written by tests/test_typology/make_r_references.py (CSV, no header,
# "%.17g": every double exactly) and writes, in the same folder, references.json (values with 15
# significant digits, jsonlite's maximum; the R and package versions) and gap_reference_sets.csv
# ("%.17g").
# Produced with R 4.2.2 Patched (2022-11-10 r83330), cluster 2.1.4, mclust 6.0.0, fpc 2.2.10,
# jsonlite; the versions actually used are written into references.json.
suppressPackageStartupMessages({
  library(cluster)
  library(mclust)
  library(fpc)
  library(jsonlite)
})
args <- commandArgs(trailingOnly = TRUE)
dir <- if (length(args)) args[1] else "."
read_matrix <- function(file) as.matrix(read.csv(file.path(dir, file), header = FALSE))
out <- list(
  software = list(R = R.version.string,
                  packages = lapply(c(cluster = "cluster", mclust = "mclust", fpc = "fpc", jsonlite = "jsonlite"),
                                    function(p) as.character(packageVersion(p)))),
  command = "Rscript tests/test_typology/data/r/references.R tests/test_typology/data/r"
)

# 1. stats::kmeans (Hartigan-Wong): the best tot.withinss over set.seed(1..20) of
#    kmeans(Z, k, nstart = 200, iter.max = 100), i.e. 4,000 starts, on the model-space matrix of
#    the typology input (test_typology_restarts.py).
Z <- read_matrix("typology_input_z.csv")
best <- sapply(2:10, function(k) min(sapply(1:20, function(s) {
  set.seed(s)
  kmeans(Z, k, nstart = 200, iter.max = 100)$tot.withinss
})))
out$kmeans_best_tot_withinss <- list(
  input = "typology_input_z.csv",
  call = "min over s in 1..20 of { set.seed(s); kmeans(Z, k, nstart = 200, iter.max = 100)$tot.withinss }",
  k = 2:10, value = best)

# 2. mclust's BIC of the full-covariance model (VVV) on the line-and-blobs data: NA where a
#    component's covariance is singular (test_typology_restarts.py). mclust's BIC is -BIC.
L <- read_matrix("line_and_blobs.csv")
b <- mclustBIC(L, G = 1:6, modelNames = c("VVV", "EEE", "VII"))
out$mclust_bic_vvv <- list(input = "line_and_blobs.csv",
                           call = 'mclustBIC(L, G = 1:6, modelNames = c("VVV", "EEE", "VII"))[, "VVV"]',
                           G = 1:6, value = unname(b[, "VVV"]), EEE = unname(b[, "EEE"]), VII = unname(b[, "VII"]))

# 3. cluster::clusGap with squared distances (d.power = 2, Tibshirani et al. 2001, eq. 2) and
#    uniform reference sets in the principal-component box (spaceH0 = "scaledPCA"), for a
#    deterministic partition: k groups of equal size by the rank of the first coordinate. The
#    reference sets clusGap draws are drawn again with the same seed and written out, so that
#    the test can compute its own gap on the very same sets (test_typology_selection.py).
G <- read_matrix("gap_input.csv")
by_rank <- function(x, k) list(cluster = ((rank(x[, 1], ties.method = "first") - 1) * k) %/% nrow(x) + 1)
B <- 10
set.seed(2001)
gap <- clusGap(G, FUNcluster = by_rank, K.max = 4, B = B, d.power = 2, spaceH0 = "scaledPCA", verbose = FALSE)
set.seed(2001)  # clusGap's draws, again (by_rank draws no random numbers)
xs <- scale(G, center = TRUE, scale = FALSE)
m.x <- rep(attr(xs, "scaled:center"), each = nrow(G))
V <- svd(xs, nu = 0)$v
rng.x1 <- apply(xs %*% V, 2L, range)
sets <- do.call(rbind, lapply(1:B, function(b) {
  z1 <- apply(rng.x1, 2, function(M, nn) runif(nn, min = M[1], max = M[2]), nn = nrow(G))
  cbind(b, tcrossprod(z1, V) + m.x)
}))
again <- sapply(1:4, function(k) mean(sapply(1:B, function(b) {
  z <- sets[sets[, 1] == b, -1]
  clus <- if (k > 1) by_rank(z, k)$cluster else rep.int(1L, nrow(z))
  log(0.5 * sum(vapply(split(seq_len(nrow(z)), clus), function(I) sum(dist(z[I, , drop = FALSE])^2 / length(I)), 0)))
})))
stopifnot(isTRUE(all.equal(again, unname(gap$Tab[, "E.logW"]), tolerance = 1e-14)))
write.table(apply(sets, 2, sprintf, fmt = "%.17g"), file.path(dir, "gap_reference_sets.csv"), sep = ",",
            quote = FALSE, row.names = FALSE, col.names = FALSE)
out$clusgap <- list(input = "gap_input.csv", reference_sets = "gap_reference_sets.csv (column 1: b)",
                    call = paste('set.seed(2001); clusGap(G, FUNcluster = by_rank, K.max = 4, B = 10, d.power = 2,',
                                 'spaceH0 = "scaledPCA")$Tab'),
                    k = 1:4, logW = unname(gap$Tab[, "logW"]), E.logW = unname(gap$Tab[, "E.logW"]),
                    gap = unname(gap$Tab[, "gap"]), SE.sim = unname(gap$Tab[, "SE.sim"]))

# 4. mclust::adjustedRandIndex of the 2 x 2 table [[20, 5], [10, 15]] (test_rules.py).
a <- rep(c("p", "q"), each = 25)
v <- c(rep("x", 20), rep("y", 5), rep("x", 10), rep("y", 15))
out$adjusted_rand_index <- list(call = "adjustedRandIndex(a, v), table(a, v) = [[20, 5], [10, 15]]",
                                value = adjustedRandIndex(a, v))

# 5. fpc::clusterboot: the defaults behind "dissolved" and "recovered", and the help page's
#    guidelines for the mean bootstrap Jaccard (Hennig 2007; test_typology_stability.py).
f <- formals(fpc::clusterboot)
help <- paste(capture.output(tools::Rd2txt(tools::Rd_db("fpc")[["clusterboot.Rd"]],
                                           options = list(underline_titles = FALSE))), collapse = " ")
help <- gsub("\\s+", " ", help)
start <- regexpr("Here are some guidelines", help)
end <- regexpr("in most cases\\.", help)
out$clusterboot <- list(call = "formals(fpc::clusterboot); help('clusterboot', package = 'fpc'), Details",
                        dissolution = f$dissolution, recover = f$recover,
                        guidelines = substr(help, start, end + attr(end, "match.length") - 1))

writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE, na = "null"),
           file.path(dir, "references.json"))
