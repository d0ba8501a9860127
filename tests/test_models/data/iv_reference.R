# Reference values of the IV tests (stored in tests/test_models/results/iv.py).
# R 4.2.2, AER 1.2.10, sandwich 3.0.2, plm 2.6.2:
#   cd tests/test_models/data && Rscript iv_reference.R
#
# 1. Stock and Watson's cigarette demand (AER::CigarettesSW, the 48 states in 1995), the example
#    of ?ivreg: log(packs) on log(rprice) instrumented by tdiff and tax/cpi, log(rincome)
#    exogenous. The data are written to iv_cigarettes_sw_1995.csv and read back, so that R and
#    the tests use the same numbers. Coefficients, standard errors (homoskedastic and sandwich
#    HC1) and summary(..., diagnostics = TRUE) (weak instruments F, Wu-Hausman F, Sargan),
#    homoskedastic and with vcov. = HC1.
# 2. plm's IV within on iv_panel.csv (written by iv_reference_pyfixest.py): y ~ x1 + x2 with
#    x1, z1, z2 as instruments, town effects and town + year effects; and x2, x3 endogenous with
#    z1, z2, z3. Coefficients, vcov (homoskedastic), vcovHC (Arellano, HC0, by town) and
#    vcovHC(type = "sss"), residual degrees of freedom and sum of squared residuals.
suppressMessages({library(AER); library(plm)})
options(digits = 15)
show <- function(label, x) { cat(label, "\n"); print(x) }

data("CigarettesSW", package = "AER")
cig <- subset(CigarettesSW, year == "1995")[, c("state", "packs", "price", "cpi", "income", "population",
                                                 "tax", "taxs")]
write.csv(cig, "iv_cigarettes_sw_1995.csv", row.names = FALSE)
cig <- read.csv("iv_cigarettes_sw_1995.csv")
cig <- transform(cig, rprice = price / cpi, rincome = income / population / cpi, tdiff = (taxs - tax) / cpi)
fm <- ivreg(log(packs) ~ log(rprice) + log(rincome) | log(rincome) + tdiff + I(tax/cpi), data = cig)
hc1 <- function(x) vcovHC(x, type = "HC1")
show("cigarettes coef", coef(fm))
show("cigarettes se", sqrt(diag(vcov(fm))))
show("cigarettes se HC1", sqrt(diag(hc1(fm))))
show("cigarettes diagnostics", summary(fm, diagnostics = TRUE)$diagnostics)
show("cigarettes diagnostics HC1", summary(fm, vcov. = hc1, diagnostics = TRUE)$diagnostics)

d <- read.csv("iv_panel.csv")
p <- pdata.frame(d, index = c("town_id", "year"))
fits <- list(
  oneway = plm(y ~ x1 + x2 | x1 + z1 + z2, data = p, model = "within"),
  twoways = plm(y ~ x1 + x2 | x1 + z1 + z2, data = p, model = "within", effect = "twoways"),
  two_endog = plm(y ~ x1 + x2 + x3 | x1 + z1 + z2 + z3, data = p, model = "within"))
for (name in names(fits)) {
  f <- fits[[name]]
  show(paste(name, "coef"), coef(f))
  show(paste(name, "se"), sqrt(diag(vcov(f))))
  show(paste(name, "se vcovHC"), sqrt(diag(vcovHC(f))))
  show(paste(name, "se vcovHC sss"), sqrt(diag(vcovHC(f, type = "sss"))))
  show(paste(name, "df.residual, rss"), c(df.residual(f), sum(residuals(f)^2)))
}
