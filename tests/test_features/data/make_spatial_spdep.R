# Reference values of tests/test_features/test_spatial_statistics.py from R spdep.
#
#   Rscript tests/test_features/data/make_spatial_spdep.R > tests/test_features/results/spatial_spdep.py
#
# R 4.2.2, spdep 1.2-7, jsonlite (digits = NA: 15 significant digits). Data:
# tests/test_features/data/spatial_towns.csv (make_spatial_towns.py). Weights built in R:
#   knn  : knn2nb(knearneigh(cbind(lon, lat), k = 5, longlat = TRUE))   (great circle)
#   band : dnearneigh(cbind(lon, lat), 0, 300, longlat = TRUE)          (great circle, km)
# and nb2listw(nb, style = "W") (row-standardized) or style = "B" (binary, join counts).
suppressMessages(library(spdep))
library(jsonlite)
here <- dirname(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE)))
d <- read.csv(file.path(here, "spatial_towns.csv"), stringsAsFactors = FALSE)
xy <- cbind(d$lon, d$lat)
nbs <- list(knn = knn2nb(knearneigh(xy, k = 5, longlat = TRUE)),
            band = dnearneigh(xy, 0, 300, longlat = TRUE))
out <- list(r_version = R.version.string, spdep_version = as.character(packageVersion("spdep")))
for (nm in names(nbs)) {
  nb <- nbs[[nm]]
  lw <- nb2listw(nb, style = "W")
  lb <- nb2listw(nb, style = "B")
  res <- list(neighbours = lapply(nb, function(j) d$town_id[j]))
  for (rand in c(FALSE, TRUE)) {
    key <- if (rand) "randomisation" else "normality"
    mt <- moran.test(d$y, lw, randomisation = rand, alternative = "two.sided")
    gt <- geary.test(d$y, lw, randomisation = rand, alternative = "two.sided")
    res[[paste0("moran_", key)]] <- list(I = unname(mt$estimate[1]), expected = unname(mt$estimate[2]),
                                         variance = unname(mt$estimate[3]), z = unname(mt$statistic),
                                         p = mt$p.value)
    res[[paste0("geary_", key)]] <- list(C = unname(gt$estimate[1]), expected = unname(gt$estimate[2]),
                                         variance = unname(gt$estimate[3]), z = unname(gt$statistic),
                                         p = gt$p.value)
  }
  lm0 <- localmoran(d$y, lw, mlvar = FALSE, conditional = FALSE)
  lm1 <- localmoran(d$y, lw, mlvar = TRUE, conditional = FALSE)
  lm2 <- localmoran(d$y, lw, mlvar = TRUE, conditional = TRUE)
  res$localmoran <- list(Ii_mlvar_false = unname(lm0[, "Ii"]), Z_total = unname(lm1[, "Z.Ii"]),
                         Z_conditional = unname(lm2[, "Z.Ii"]), E_total = unname(lm1[, "E.Ii"]),
                         Var_total = unname(lm1[, "Var.Ii"]))
  jc <- joincount.test(factor(d$type), lb, sampling = "nonfree", alternative = "greater")
  res$joincount <- lapply(jc, function(t) list(type = sub("Std. deviate for ", "", names(t$statistic)),
                                               joins = unname(t$estimate[1]), expected = unname(t$estimate[2]),
                                               variance = unname(t$estimate[3]), z = unname(t$statistic),
                                               p = t$p.value))
  out[[nm]] <- res
}
js <- toJSON(out, digits = NA, auto_unbox = TRUE, pretty = FALSE)
cat('"""R spdep references of test_spatial_statistics.py (written by data/make_spatial_spdep.R).\n\n',
    'Produced with:\n    Rscript tests/test_features/data/make_spatial_spdep.R > tests/test_features/results/spatial_spdep.py\n',
    out$r_version, ', spdep ', out$spdep_version, '. Data: data/spatial_towns.csv. Per weights (knn: knearneigh k = 5,\n',
    'band: dnearneigh 0-300 km, both longlat = TRUE; style "W", binary "B" for join counts):\n',
    'moran.test / geary.test (randomisation = FALSE / TRUE, alternative = "two.sided"), localmoran\n',
    '(mlvar = FALSE: Ii; mlvar = TRUE, conditional = FALSE / TRUE: Z.Ii, E.Ii, Var.Ii), joincount.test\n',
    '(factor(type), sampling = "nonfree", alternative = "greater") and the neighbour lists.\n"""\n\n',
    'import json\n\nSPDEP = json.loads(r"""', js, '""")\n', sep = "")
