# Reference values of PPML by R's base glm (Poisson, log link) with the effects as dummies, and
# sandwich's robust and clustered covariances (tests/test_models/results/ppml.py, cases r_*).
#
# R 4.2.2 with sandwich 3.0.2 (Debian bookworm r-cran-sandwich). Called by ppml_references.py,
# which writes the gravity frame it builds to a temporary CSV first:
#
#     Rscript ppml_references.R ppml_panel.csv <gravity.csv> ppml_separation.csv ppml_counts.csv
#
# The fits use the rows the effects can identify (ppml_references.py's pyfixest references drop
# the others): rows of a town or year whose outcomes are all zero, after singletons. With every
# effect as dummies, sandwich's HC1 factor n / (n - k) and vcovCL's G / (G - 1) (n - 1) / (n - k)
# count k = regressors + levels of the effects - (effects - 1), fixest's and pyfixest's K when no
# effect is nested in the cluster. Printed as "case quantity term value" (17 digits).
suppressMessages(library(sandwich))
args <- commandArgs(trailingOnly = TRUE)
out <- function(case, quantity, values) {
  for (k in names(values)) cat(sprintf("%s %s %s %.17g\n", case, quantity, k, values[[k]]))
}
fit_out <- function(case, m, vc, terms) {
  out(case, "params", coef(m)[terms])
  out(case, "std_errors", sqrt(diag(vc))[terms])
  out(case, "fit", c(nobs = nobs(m), deviance = deviance(m), loglik = as.numeric(logLik(m))))
}
identified <- function(d, a, b) {  # singletons of a, then levels of a or b whose outcomes are all zero
  d <- d[ave(d$y, d[[a]], FUN = length) > 1, ]
  d[ave(d$y, d[[a]], FUN = max) > 0 & ave(d$y, d[[b]], FUN = max) > 0, ]
}
ctl <- glm.control(epsilon = 1e-14, maxit = 100)

panel <- identified(read.csv(args[1]), "town_id", "year")
m <- glm(y ~ x1 + x2 + factor(town_id) + factor(year), family = poisson(), data = panel, control = ctl)
fit_out("r_panel_hc1", m, vcovHC(m, type = "HC1"), c("x1", "x2"))

grav <- read.csv(args[2])
m <- glm(flow ~ log_dist + same_region + factor(origin) + factor(destination), family = poisson(), data = grav,
         control = ctl)
fit_out("r_gravity_od_crv1_pair", m, vcovCL(m, cluster = ~pair, type = "HC1"), c("log_dist", "same_region"))

sep <- identified(read.csv(args[3]), "town_id", "year")
m <- glm(y ~ x1 + factor(town_id) + factor(year), family = poisson(), data = sep, control = ctl)
fit_out("r_separation_hc1", m, vcovHC(m, type = "HC1"), "x1")

counts <- read.csv(args[4])
m <- glm(y ~ x1 + x2 + offset(log_exposure), family = poisson(), data = counts, control = ctl)
fit_out("r_glm_offset_hc1", m, vcovHC(m, type = "HC1"), c("(Intercept)", "x1", "x2"))
fit_out("r_glm_offset_crv1_g", m, vcovCL(m, cluster = ~g, type = "HC1"), c("(Intercept)", "x1", "x2"))
