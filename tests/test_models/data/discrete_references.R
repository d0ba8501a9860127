# Reference values of tests/test_models/test_discrete.py, written to discrete_references.csv.
#
# R 4.2.2 with MASS 7.3-58.2, nnet 7.3-18, numDeriv 2016.8-1.1 and brglm2 0.9 (Debian bookworm
# packages r-cran-mass, r-cran-nnet, r-cran-numderiv, r-cran-brglm2). Run from the repository root:
#
#     Rscript tests/test_models/data/discrete_references.R
#
# Average marginal effects are computed by hand, independently of the Python code: predictions
# of the fitted glm on counterfactual copies of the data (a 0/1 regressor set to 1 and to 0, a
# factor set to each level, a continuous regressor moved by +-h for a central difference), so
# every term a variable enters changes with it (Ai and Norton 2003); standard errors by the
# delta method with numDeriv::jacobian of the mean effect with respect to the coefficients and
# the inverse observed information (numDeriv::hessian of the log-likelihood; Stata's and
# statsmodels' convention) or sandwich-free cluster-robust HC1 written out below.
# Firth: brglm2::brglmFit type = "AS_mean" (= Firth's penalized likelihood for the logit, the
# estimates of logistf) and type = "MPL_Jeffreys" (Jeffreys-prior penalized probit); their
# standard errors are the inverse expected information at the estimate, as logistf(pl = FALSE).
suppressMessages({library(MASS); library(numDeriv); library(nnet); library(brglm2)})
dir <- "tests/test_models/data"
rows <- list()
add <- function(case, quantity, term, value)
  rows[[length(rows) + 1]] <<- data.frame(case = case, quantity = quantity, term = term, value = value)

# ------------------------------------------------------------------ data
bw <- MASS::birthwt[, c("low", "age", "lwt", "race", "smoke", "ptl", "ht", "ui", "ftv")]
bw$grp <- (seq_len(nrow(bw)) - 1) %% 23          # 23 clusters for the clustered errors
write.csv(bw, file.path(dir, "birthwt.csv"), row.names = FALSE)
bw$race <- factor(bw$race)
bw$ftv3 <- factor(pmin(bw$ftv, 2))

# ------------------------------------------------------------------ helpers
linkinv <- function(link) if (link == "logit") plogis else pnorm
prob <- function(fit, b, nd) {
  X <- model.matrix(delete.response(terms(fit)), nd, xlev = fit$xlevels)
  linkinv(fit$family$link)(drop(X %*% b))
}
loglik <- function(fit, b) {
  p <- prob(fit, b, fit$data); y <- fit$y
  sum(y * log(p) + (1 - y) * log(1 - p))
}
vcov_observed <- function(fit) {   # inverse observed information, written out (= vcov(fit) for the logit)
  X <- model.matrix(fit); eta <- drop(X %*% coef(fit)); y <- fit$y
  if (fit$family$link == "logit") { p <- plogis(eta); w <- p * (1 - p) } else {
    P <- pnorm(eta); f <- dnorm(eta)
    w <- f * (y * (f + eta * P) / P^2 + (1 - y) * (f - eta * (1 - P)) / (1 - P)^2) }
  solve(crossprod(X * sqrt(w)))
}
vcov_cluster_hc1 <- function(fit, cl) {   # G/(G-1) (N-1)/(N-K) bread meat bread (statsmodels, Stata)
  X <- model.matrix(fit); b <- coef(fit); eta <- drop(X %*% b); y <- fit$y
  p <- plogis(eta); s <- X * (y - p)
  B <- solve(crossprod(X * sqrt(p * (1 - p))))
  S <- rowsum(s, cl); G <- nrow(S); N <- nrow(X); K <- ncol(X)
  G / (G - 1) * (N - 1) / (N - K) * B %*% crossprod(S) %*% B
}
setv <- function(d, v, value) { if (is.factor(d[[v]])) d[[v]] <- factor(value, levels = levels(d[[v]])) else d[[v]] <- value; d }
shift <- function(d, v, h) { d[[v]] <- d[[v]] + h; d }
h1 <- 1e-5
eff_cont <- function(fit, v) function(b) mean((prob(fit, b, shift(fit$data, v, h1)) - prob(fit, b, shift(fit$data, v, -h1))) / (2 * h1))
eff_disc <- function(fit, v, to, from) function(b) mean(prob(fit, b, setv(fit$data, v, to)) - prob(fit, b, setv(fit$data, v, from)))
eff_cc <- function(fit, u, v) {   # cross-partial derivative f'(eta) eta_u eta_v + f(eta) eta_uv
  mm <- function(d) model.matrix(delete.response(terms(fit)), d, xlev = fit$xlevels)
  d0 <- fit$data; X <- mm(d0)
  Xu <- mm(shift(d0, u, 1)) - X; Xv <- mm(shift(d0, v, 1)) - X    # exact: the design is linear in each variable
  Xuv <- mm(shift(shift(d0, u, 1), v, 1)) - mm(shift(d0, u, 1)) - mm(shift(d0, v, 1)) + X
  dens <- if (fit$family$link == "logit") function(e) dlogis(e) else dnorm
  ddens <- if (fit$family$link == "logit") function(e) dlogis(e) * (1 - 2 * plogis(e)) else function(e) -e * dnorm(e)
  function(b) { e <- drop(X %*% b)
    mean(ddens(e) * drop(Xu %*% b) * drop(Xv %*% b) + dens(e) * drop(Xuv %*% b)) }
}
eff_cd <- function(fit, u, v, to, from) function(b) {   # difference of derivatives in u between v = to and v = from
  dd <- function(val) { d <- setv(fit$data, v, val)
    (prob(fit, b, shift(d, u, h1)) - prob(fit, b, shift(d, u, -h1))) / (2 * h1) }
  mean(dd(to) - dd(from))
}
eff_dd <- function(fit, u, ut, uf, v, vt, vf) function(b) {   # double difference
  P <- function(a, c) prob(fit, b, setv(setv(fit$data, u, a), v, c))
  mean(P(ut, vt) - P(ut, vf) - P(uf, vt) + P(uf, vf))
}
report <- function(case, fit, effects, V, what = "ame") {
  for (nm in names(effects)) {
    f <- effects[[nm]]; b <- coef(fit)
    J <- numDeriv::jacobian(f, b, method.args = list(d = 0.05, r = 6))
    add(case, what, nm, f(b)); add(case, paste0(what, "_se"), nm, sqrt(drop(J %*% V %*% t(J))))
  }
}

# ------------------------------------------------------------------ binary models on birthwt
f1 <- low ~ age + lwt + race + smoke + ptl + ht + ui
ctl <- glm.control(epsilon = 1e-14, maxit = 100)
for (link in c("logit", "probit")) {
  fit <- glm(f1, binomial(link = link), data = bw, control = ctl)
  case <- paste0("birthwt_", link)
  for (nm in names(coef(fit))) add(case, "coef", nm, coef(fit)[[nm]])
  V <- vcov_observed(fit)
  eff <- list(age = eff_cont(fit, "age"), lwt = eff_cont(fit, "lwt"), ptl = eff_cont(fit, "ptl"),
              "C(race)[T.2]" = eff_disc(fit, "race", "2", "1"), "C(race)[T.3]" = eff_disc(fit, "race", "3", "1"),
              smoke = eff_disc(fit, "smoke", 1, 0), ht = eff_disc(fit, "ht", 1, 0), ui = eff_disc(fit, "ui", 1, 0))
  report(case, fit, eff, V)
  if (link == "logit") report("birthwt_logit_cluster", fit, eff, vcov_cluster_hc1(fit, bw$grp))
}

# interactions: age*lwt (continuous x continuous), race*smoke (factor x 0/1), age:smoke (continuous x 0/1)
f2 <- low ~ age * lwt + race * smoke + age:smoke + ui
for (link in c("logit", "probit")) {
  fit <- glm(f2, binomial(link = link), data = bw, control = ctl)
  case <- paste0("birthwt_inter_", link)
  for (nm in names(coef(fit))) add(case, "coef", nm, coef(fit)[[nm]])
  V <- vcov_observed(fit)
  report(case, fit, list(age = eff_cont(fit, "age"), lwt = eff_cont(fit, "lwt"),
                         "C(race)[T.2]" = eff_disc(fit, "race", "2", "1"), "C(race)[T.3]" = eff_disc(fit, "race", "3", "1"),
                         smoke = eff_disc(fit, "smoke", 1, 0), ui = eff_disc(fit, "ui", 1, 0)), V)
  report(case, fit, list("age:lwt" = eff_cc(fit, "age", "lwt"),
                         "smoke:C(race)[T.2]" = eff_dd(fit, "race", "2", "1", "smoke", 1, 0),
                         "smoke:C(race)[T.3]" = eff_dd(fit, "race", "3", "1", "smoke", 1, 0),
                         "age:smoke" = eff_cd(fit, "age", "smoke", 1, 0)), V, what = "interaction")
}

# ------------------------------------------------------------------ multinomial logit: race ~ ... + factor(ftv3)
K <- 6
Xm <- model.matrix(~ age + lwt + smoke + ht + ftv3, bw)
ym <- as.integer(bw$race)
mn_prob <- function(b, X) { B <- cbind(0, matrix(b, ncol(X))); E <- exp(X %*% B); E / rowSums(E) }
mn_ll <- function(b) sum(log(mn_prob(b, Xm)[cbind(seq_along(ym), ym)]))
start <- as.vector(t(coef(multinom(race ~ age + lwt + smoke + ht + ftv3, bw, trace = FALSE, maxit = 1000, reltol = 1e-16))))
opt <- optim(start, function(b) -mn_ll(b), gr = function(b) -numDeriv::grad(mn_ll, b), method = "BFGS",
             control = list(reltol = 1e-16, maxit = 10000))
bm <- opt$par
Vm <- solve(-numDeriv::hessian(mn_ll, bm))
add("birthwt_mnlogit", "loglik", "", mn_ll(bm))
mn_design <- function(d) model.matrix(~ age + lwt + smoke + ht + ftv3, d)
mn_eff <- list(
  age = function(b) colMeans((mn_prob(b, mn_design(shift(bw, "age", h1))) - mn_prob(b, mn_design(shift(bw, "age", -h1)))) / (2 * h1)),
  lwt = function(b) colMeans((mn_prob(b, mn_design(shift(bw, "lwt", h1))) - mn_prob(b, mn_design(shift(bw, "lwt", -h1)))) / (2 * h1)),
  smoke = function(b) colMeans(mn_prob(b, mn_design(setv(bw, "smoke", 1))) - mn_prob(b, mn_design(setv(bw, "smoke", 0)))),
  "C(ftv3)[T.1]" = function(b) colMeans(mn_prob(b, mn_design(setv(bw, "ftv3", "1"))) - mn_prob(b, mn_design(setv(bw, "ftv3", "0")))),
  "C(ftv3)[T.2]" = function(b) colMeans(mn_prob(b, mn_design(setv(bw, "ftv3", "2"))) - mn_prob(b, mn_design(setv(bw, "ftv3", "0")))))
for (nm in names(mn_eff)) {
  v <- mn_eff[[nm]](bm); J <- numDeriv::jacobian(mn_eff[[nm]], bm); se <- sqrt(diag(J %*% Vm %*% t(J)))
  for (m in 1:3) { add("birthwt_mnlogit", "ame", paste0(m, "|", nm), v[m]); add("birthwt_mnlogit", "ame_se", paste0(m, "|", nm), se[m]) }
}

# ------------------------------------------------------------------ Firth: sex2 (logistf's data), brglm2
sex2 <- read.csv(file.path(dir, "sex2.csv"))
fs <- case ~ age + oc + vic + vicl + vis + dia
for (link in c("logit", "probit")) {
  type <- if (link == "logit") "AS_mean" else "MPL_Jeffreys"
  fit <- glm(fs, binomial(link = link), data = sex2, method = "brglmFit", type = type, epsilon = 1e-12, maxit = 500)
  case <- paste0("sex2_firth_", link)
  s <- summary(fit)$coefficients
  for (nm in rownames(s)) { add(case, "coef", nm, s[nm, 1]); add(case, "se", nm, s[nm, 2]) }
}
# maximum likelihood does not exist on sex2 (dia = 1 only with case = 1). Diagnostic of Lesaffre
# and Albert (1989) (what detectseparation::check_infinite_estimates does; that package is not in
# Debian): refit with 1 and 20 IRLS iterations; the standard error of an infinite estimate grows
# without bound (ratio >> 1), the others settle (ratio near 1)
sep_ratio <- function(case, formula, data) {
  se <- function(k) sqrt(diag(vcov(suppressWarnings(glm(formula, binomial, data = data,
                                                         control = glm.control(maxit = k))))))
  r <- se(20) / se(1)
  for (nm in names(r)) add(case, "se_ratio_20", nm, r[[nm]])
}
sep_ratio("sex2_detect", fs, sex2)

# ------------------------------------------------------------------ constructed separated data
set.seed(11)
n <- 80
sep <- data.frame(x = round(rnorm(n), 3), g = sample(c("a", "b", "c"), n, TRUE), d = rbinom(n, 1, 0.3))
sep$y <- rbinom(n, 1, plogis(0.3 * sep$x))
sep$y[sep$d == 1] <- 1L                       # quasi-complete: d = 1 only with y = 1
sep$yc <- as.integer(sep$x > 0.2)             # complete: y = 1 exactly when x > 0.2
sep$yg <- rbinom(n, 1, 0.5); sep$yg[sep$g == "c"] <- 0L   # quasi-complete by a factor level
write.csv(sep, file.path(dir, "separation.csv"), row.names = FALSE)
for (spec in list(c("sep_d", "y ~ x + g + d"), c("sep_complete", "yc ~ x + g"), c("sep_level", "yg ~ x + g")))
  sep_ratio(spec[1], as.formula(spec[2]), sep)
fit <- glm(y ~ x + g + d, binomial, data = sep, method = "brglmFit", type = "AS_mean", epsilon = 1e-12, maxit = 500)
s <- summary(fit)$coefficients
for (nm in rownames(s)) { add("sep_d_firth", "coef", nm, s[nm, 1]); add("sep_d_firth", "se", nm, s[nm, 2]) }

out <- do.call(rbind, rows)
write.csv(out, file.path(dir, "discrete_references.csv"), row.names = FALSE)
cat(nrow(out), "reference values written\n")
