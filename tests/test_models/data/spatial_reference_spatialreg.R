# Cross-sectional spatial lag, error and Durbin models of R 4.2.2, spatialreg 1.2-6, spdep 1.2-7,
# on the year 2000 of spatial_panel.csv with the row-standardized weights of spatial_edges.csv
# (method = "eigen"); impacts with the exact inverse (listw). Prints the values stored in
# tests/test_models/results/spatial.py:
#   Rscript tests/test_models/data/spatial_reference_spatialreg.R
suppressMessages({library(spdep); library(spatialreg)})
here <- "tests/test_models/data"
panel <- read.csv(file.path(here, "spatial_panel.csv"))
edges <- read.csv(file.path(here, "spatial_edges.csv"))
d <- panel[panel$year == 2000, ]
d <- d[order(d$town_id), ]
ids <- d$town_id
n <- length(ids)
B <- matrix(0, n, n)
B[cbind(match(edges$town_id, ids), match(edges$neighbor, ids))] <- 1
lw <- mat2listw(B, style = "W")
out <- function(name, x) cat(name, "=", paste0("[", paste(sprintf("%.15g", x), collapse = ", "), "]"), "\n")
lag <- lagsarlm(y ~ x1 + x2, data = d, listw = lw, method = "eigen")
s <- summary(lag)
out("CS_LAG_COEF", c(coef(lag)[-1], lag$rho))   # Intercept, x1, x2, rho
out("CS_LAG_SE", c(s$Coef[, 2], lag$rho.se))
out("CS_LAG_LOGLIK", as.numeric(logLik(lag)))
out("CS_LAG_SIGMA2", lag$s2)
im <- impacts(lag, listw = lw)
out("CS_LAG_DIRECT", im$direct); out("CS_LAG_INDIRECT", im$indirect); out("CS_LAG_TOTAL", im$total)
err <- errorsarlm(y ~ x1 + x2, data = d, listw = lw, method = "eigen")
s <- summary(err)
out("CS_ERR_COEF", c(coef(err)[-1], err$lambda))
out("CS_ERR_SE", c(s$Coef[, 2], err$lambda.se))
out("CS_ERR_LOGLIK", as.numeric(logLik(err)))
dur <- lagsarlm(y ~ x1 + x2, data = d, listw = lw, method = "eigen", Durbin = TRUE)
s <- summary(dur)
out("CS_DUR_COEF", c(coef(dur)[-1], dur$rho))  # Intercept, x1, x2, lag.x1, lag.x2, rho
out("CS_DUR_SE", c(s$Coef[, 2], dur$rho.se))
out("CS_DUR_LOGLIK", as.numeric(logLik(dur)))
im <- impacts(dur, listw = lw)
out("CS_DUR_DIRECT", im$direct); out("CS_DUR_INDIRECT", im$indirect); out("CS_DUR_TOTAL", im$total)
