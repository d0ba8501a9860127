# Three-way clustered errors of the three-effect panel (tests/test_models/test_absorb.py):
# R 4.2.2, sandwich 3.0.22.   cd tests/test_models/data && Rscript hdfe_threeway_sandwich.R
#
# y ~ x1 + x2 with town, year and region-by-year effects on hdfe_panel.csv, clustered by
# town_id + year + region (Cameron, Gelbach and Miller 2011; pyfixest clusters at most two
# ways). The effects are removed by lm() on their dummies (Frisch-Waugh-Lovell), then
# vcovCL() clusters the regression of the residuals on the residuals (same scores, same bread):
#   none: type = "HC0", cadjust = FALSE   (sum of (-1)^(|S|+1) V_S, no factor)
#   plm : type = "HC1", cadjust = TRUE    (each V_S times G_S/(G_S-1), all times (N-1)/(N-2))
#   stata: none * G_min/(G_min-1) * (N-1)/(N-K), fixest's cluster.df = "min", K = 2 slopes + 1
#          (every effect is nested in a cluster dimension: fixef.K = "nested")
library(sandwich)
d <- read.csv("hdfe_panel.csv")
fe <- ~ factor(town_id) + factor(year) + factor(region_year)
res <- function(v) resid(lm(update(fe, paste(v, "~ .")), data = d))
r <- data.frame(y = res("y"), x1 = res("x1"), x2 = res("x2"), town_id = d$town_id, year = d$year,
                region = d$region)
fit <- lm(y ~ 0 + x1 + x2, data = r)
cl <- ~ town_id + year + region
none <- sqrt(diag(vcovCL(fit, cluster = cl, type = "HC0", cadjust = FALSE)))
plm <- sqrt(diag(vcovCL(fit, cluster = cl, type = "HC1", cadjust = TRUE)))
N <- nrow(d); G <- min(length(unique(d$town_id)), length(unique(d$year)), length(unique(d$region)))
stata <- none * sqrt(G / (G - 1) * (N - 1) / (N - 3))
options(digits = 17)
cat("coef:", coef(fit), "\n")
cat("none:", none, "\n")
cat("plm:", plm, "\n")
cat("stata:", stata, "(G_min =", G, ", N =", N, ")\n")
