"""Reference values of the spatial models on ``tests/test_models/data/spatial_panel.csv`` (60 towns
x 6 years) with the row-standardized k = 5 nearest-neighbour weights of ``spatial_edges.csv``.

spreg 1.9.0 (``tests/test_models/data/spatial_reference_spreg.py``): ``spreg.Panel_FE_Lag(y, x, w)``
and ``spreg.Panel_FE_Error(y, x, w)`` (town effects, direct approach, SuperLU log-determinant,
``epsilon=1e-7``); params are ``(x1, x2, rho|lambda)``. spreg's ``logll`` leaves out the term
``(nT/2) log(nT)`` of the log-likelihood (its concentrated function uses ``log(e'e)`` for
``log(e'e / nT)``): the full log-likelihood is ``logll + (nT/2) log(nT)``.

R 4.2.2, spatialreg 1.2-6, spdep 1.2-7 (``tests/test_models/data/spatial_reference_spatialreg.R``):
``lagsarlm(y ~ x1 + x2, data = d, listw = lw, method = "eigen")``, ``errorsarlm(...)`` and
``lagsarlm(..., Durbin = TRUE)`` on the year 2000 (cross-section), ``lw = mat2listw(B, style =
"W")``; standard errors ``summary(fit)$Coef[, 2]`` and ``fit$rho.se`` / ``fit$lambda.se``;
``logLik(fit)``; ``impacts(fit, listw = lw)`` (exact inverse). Coefficients ordered
``(Intercept, x1, x2[, lag.x1, lag.x2], rho|lambda)``.
"""

# spreg 1.9.0
LAG_PARAMS = [0.9477624387476432, -0.4842366638287965, 0.7992491160418782]
LAG_SE = [0.057597787553417164, 0.058718451348229284, 0.020976667898991667]
LAG_LOGLL = -1587.496238426913
LAG_SIG2 = 0.9153639946404091
ERR_PARAMS = [0.9285314977548601, -0.4726978065136528, 0.8421716817919821]
ERR_SE = [0.04895800638679652, 0.0505959971261084, 0.021589461677531566]
ERR_LOGLL = -1567.8897085940446
ERR_SIG2 = 0.7912548781766287

# R 4.2.2, spatialreg 1.2-6
CS_LAG_COEF = [-1.28857819351287, 1.02735907953247, -0.390819261322276, 0.27491994555364]
CS_LAG_SE = [0.28880903178759, 0.134723493364522, 0.172828259375658, 0.146000217499307]
CS_LAG_LOGLIK = -97.873186180598
CS_LAG_SIGMA2 = 1.50842742242606
CS_LAG_DIRECT = [1.04226610578805, -0.396490066307394]
CS_LAG_INDIRECT = [0.374624447513562, -0.142511467282836]
CS_LAG_TOTAL = [1.41689055330162, -0.53900153359023]
CS_ERR_COEF = [-1.74903113021764, 0.993465696318318, -0.357042009850564, 0.30822712566309]
CS_ERR_SE = [0.230964987725933, 0.132395134666056, 0.168190871546806, 0.172021266096943]
CS_ERR_LOGLIK = -98.4303982666773
CS_DUR_COEF = [-1.50038239948943, 1.04606410944239, -0.440610605826474, 0.271628999770429, -0.386397761196345,
               0.162483781765889]
CS_DUR_SE = [0.376599870476169, 0.136913025398278, 0.17839201641699, 0.422065174326011, 0.448652677415422,
             0.192850554586026]
CS_DUR_LOGLIK = -97.5990058173268
CS_DUR_DIRECT = [1.05862766341494, -0.453640527145967]
CS_DUR_INDIRECT = [0.514706775398853, -0.533813027803156]
CS_DUR_TOTAL = [1.5733344388138, -0.987453554949123]
