# Reference values of the linear panel models on plm's Grunfeld and Produc data
# (tests/test_models/results/grunfeld.py and produc.py quote this script's output).
#
# R 4.2.2 with plm 2.6.2, sandwich 3.0.2, lmtest 0.9.40 (Debian bookworm packages r-cran-plm,
# r-cran-sandwich, r-cran-lmtest). Run from the repository root:
#
#     Rscript tests/test_models/data/panel_references.R
#
# Every number is printed with 10 significant digits as "case quantity term value".
suppressMessages({library(plm); library(sandwich); library(lmtest)})
out <- function(case, quantity, values) {
  for (k in names(values)) cat(sprintf("%s %s %s %.10g\n", case, quantity, k, values[[k]]))
}
fit_out <- function(case, m, vc = vcov(m)) {
  out(case, "params", coef(m))
  out(case, "std_errors", sqrt(diag(vc)))
}

# ------------------------------------------------------------------ Produc (Munnell 1990)
data("Produc", package = "plm")
f <- log(gsp) ~ log(pcap) + log(pc) + log(emp) + unemp
pp <- pdata.frame(Produc, index = c("state", "year"))
within1 <- plm(f, data = pp, model = "within")                       # the ?plm example, summary(zz)
fit_out("produc_within", within1)
out("produc_within", "fit", c(rsquared = unname(r.squared(within1)), df_resid = df.residual(within1)))
# Arellano's clustered errors without a small-sample factor (vcovHC's defaults)
fit_out("produc_within_arellano_hc0", within1, vcovHC(within1, method = "arellano", type = "HC0", cluster = "group"))
twoway <- plm(f, data = pp, model = "within", effect = "twoways")
fit_out("produc_within_twoway", twoway)
out("produc_within_twoway", "fit", c(rsquared = unname(r.squared(twoway)), df_resid = df.residual(twoway)))
random <- plm(f, data = pp, model = "random", random.method = "swar")
fit_out("produc_random", random)
er <- ercomp(random)
out("produc_random", "variance_components",
    c(sigma2_e = unname(er$sigma2["idios"]), sigma2_u = unname(er$sigma2["id"]), theta = unname(er$theta)))
pooled <- lm(f, data = Produc)
fit_out("produc_pooled", pooled)
fd <- plm(f, data = pp, model = "fd")
fit_out("produc_first_difference", fd)
out("produc_first_difference", "fit", c(rsquared = unname(r.squared(fd)), nobs = nobs(fd)))
out("produc_first_difference", "cov_hc0_diag", diag(vcovHC(fd)))
fd0 <- plm(update(f, . ~ . - 1), data = pp, model = "fd")
fit_out("produc_first_difference_nocons", fd0)
h <- phtest(twoway, random)
out("produc_hausman_twoway_random", "test", c(statistic = unname(h$statistic), df = unname(h$parameter),
                                               pvalue = h$p.value))

# ------------------------------------------------------------------ Grunfeld (Baltagi's 10 firms)
data("Grunfeld", package = "plm")
out("grunfeld_data", "column_sums", colSums(Grunfeld[, c("inv", "value", "capital")]))
g <- inv ~ value + capital
gp <- pdata.frame(Grunfeld, index = c("firm", "year"))
fe <- plm(g, data = gp, model = "within")
# Stata's R-squared of xtreg, fe ([XT] xtreg, Methods and formulas): squared correlations of the
# fitted index x b with the outcome, within towns, between town means, and overall
xb <- as.vector(as.matrix(Grunfeld[, c("value", "capital")]) %*% coef(fe))
dm <- function(v) v - ave(v, Grunfeld$firm)
gm <- function(v) tapply(v, Grunfeld$firm, mean)
out("grunfeld_within", "stata_rsquared", c(within = cor(dm(Grunfeld$inv), dm(xb))^2,
                                           between = cor(gm(Grunfeld$inv), gm(xb))^2,
                                           overall = cor(Grunfeld$inv, xb)^2))
# plm's clustered errors (Arellano, no factor) and their Wald tests
out("grunfeld_within_arellano", "wald", c(
  chisq = unname(pwaldtest(fe, test = "Chisq", vcov = vcovHC)$statistic),
  f = unname(pwaldtest(fe, test = "F", vcov = vcovHC)$statistic),
  f_time_clusters = unname(pwaldtest(fe, test = "F", vcov = function(x) vcovHC(x, cluster = "time"))$statistic)))
re <- plm(g, data = gp, model = "random")
out("grunfeld_hausman", "test", c(classical = unname(phtest(fe, re)$statistic),
                                  aux = unname(phtest(g, data = gp, method = "aux")$statistic),
                                  aux_robust = unname(phtest(g, data = gp, method = "aux", vcov = vcovHC)$statistic)))
