# Reference values of the classical Hausman test (tests/test_models/test_hausman_classical.py).
# R 4.2.2, plm 2.6.2. Run from this folder:  Rscript hausman_reference.R
# The two-way panels were drawn once in Python (numpy default_rng(seed), 40 towns x 10 years,
# regressors correlated with town and year effects, rounded to 6 decimals) and are stored here.
library(plm)
f <- y ~ x1 + x2 + x3
for (seed in c(36, 1)) {
  d <- read.csv(sprintf("hausman_twoway_seed%d.csv", seed), colClasses = c(town_id = "character"))
  fe <- plm(f, data = d, index = c("town_id", "year"), model = "within", effect = "twoways")
  re <- plm(update(f, . ~ . + factor(year)), data = d, index = c("town_id", "year"),
            model = "random", random.method = "swar")
  h <- phtest(fe, re)
  cn <- c("x1", "x2", "x3")
  dv <- vcov(fe)[cn, cn] - vcov(re)[cn, cn]
  cat(sprintf("seed %d: chisq = %.10g, df = %d, p = %.10g; eigenvalues of V_W - V_R: %s\n", seed,
              h$statistic, h$parameter, h$p.value, paste(signif(eigen(dv)$values, 6), collapse = " ")))
  cat("  within:", sprintf("%.10g", coef(fe)[cn]), " random:", sprintf("%.10g", coef(re)[cn]), "\n")
}
data("Produc", package = "plm")
fe <- plm(log(gsp) ~ log(pcap) + log(pc) + log(emp) + unemp, data = Produc, index = c("state", "year"))
re <- update(fe, model = "random")
h <- phtest(fe, re)
cat(sprintf("Produc: chisq = %.10g, df = %d, p = %.10g\n", h$statistic, h$parameter, h$p.value))
