"""The report's words in English and Russian: every fixed string of the report, keyed.

:func:`tr` looks a key up (``{placeholders}`` filled from keyword arguments); ``{units}``,
``{units_gen}`` and ``{unit}`` name the units of the study (towns, districts or
municipalities; :data:`UNITS`). English is the default and the reference: a key missing in
Russian is an error of this table, caught by the tests (``test_every_key_has_every_language``).

Type names composed by ``typology.estimator.naming`` ("corporate single-employer town far from
agglomerations") are translated phrase by phrase (:func:`type_name`); a name the user wrote
stays as written.
"""

from __future__ import annotations

__all__ = ["LANGS", "STRINGS", "UNITS", "column", "definition", "fit_labels", "tr", "type_name", "units_of",
           "word"]

LANGS = ("en", "ru")

#: the units of a study: singular, plural, genitive plural (Russian counts: "городов: 83")
UNITS = {
    "towns": {"en": ("town", "towns", "towns"), "ru": ("город", "города", "городов")},
    "districts": {"en": ("district", "districts", "districts"), "ru": ("район", "районы", "районов")},
    "municipalities": {"en": ("municipality", "municipalities", "municipalities"),
                       "ru": ("муниципалитет", "муниципалитеты", "муниципалитетов")},
}

_E, _R = "en", "ru"
STRINGS: dict[str, dict[str, str]] = {
    "title": {_E: "Town typology report", _R: "Типология: отчёт"},
    "run_note": {_E: "Run created {created} with nordtowns {version}; dataset {path}; random_state {seed}.",
                 _R: "Расчёт выполнен {created}, nordtowns {version}; данные {path}; random_state {seed}."},
    "h.data": {_E: "Data", _R: "Данные"},
    "data.counts": {_E: "{town_years} {unit}-years have features; {typed} {units} are typed, {left} {units} of the "
                        "sample are left out (listed below).",
                    _R: "Наблюдений ({unit} × год) с признаками: {town_years}; типизировано {units_gen}: {typed}; "
                        "исключено {units_gen} выборки: {left} (список ниже)."},
    "data.flagged": {_E: "What validation and the stages flagged or left out:",
                     _R: "Замечания проверки данных и этапов расчёта (на английском):"},
    "more_rows": {_E: "... and {n} more ({file}).", _R: "... и ещё {n} ({file})."},
    "h.selection": {_E: "Number of types", _R: "Число типов"},
    "selection.reason_note": {_E: "", _R: "Обоснование выбора (на английском):"},
    "fig.selection": {_E: "k-selection indices by number of types k", _R: "индексы выбора числа типов k"},
    "h.stability": {_E: "Stability of the types", _R: "Устойчивость типов"},
    "fig.stability": {_E: "bootstrap stability per type", _R: "бутстреп-устойчивость типов"},
    "h.profiles": {_E: "Type profiles", _R: "Профили типов"},
    "profiles.means": {_E: "Type means in the features' own units:",
                       _R: "Средние по типам в единицах признаков:"},
    "fig.profiles.title": {_E: "Type profiles: mean z-score of each feature (transformed scale)",
                           _R: "Профили типов: средний z-балл признака (преобразованная шкала)"},
    "fig.profiles": {_E: "z-score heatmap of the type profiles", _R: "тепловая карта z-баллов профилей типов"},
    "profiles.typical": {_E: "Most typical and most atypical {units} of each type (closest to and farthest from the "
                             "type centre):",
                         _R: "Самые типичные и самые нетипичные {units} каждого типа (ближайшие к центру типа и "
                             "самые далёкие от него):"},
    "profiles.type_line": {_E: "Type {t} '{name}': {n} {units} ({share}).",
                           _R: "Тип {t} «{name}»: {units_gen} {n} ({share})."},
    "profiles.by": {_E: " Distinguished by {parts}.", _R: " Отличается: {parts}."},
    "profiles.none": {_E: " No feature distinguishes it at the chosen level.",
                      _R: " Ни один признак не отличает его на выбранном уровне значимости."},
    "profiles.part": {_E: "{feature} {direction} ({mean} vs {rest}, Cliff's delta {delta})",
                      _R: "{feature} {direction} ({mean} против {rest}, дельта Клиффа {delta})"},
    "higher": {_E: "higher", _R: "выше"},
    "lower": {_E: "lower", _R: "ниже"},
    "profiles.most_typical": {_E: " Most typical: {ids}.", _R: " Самые типичные: {ids}."},
    "h.map": {_E: "Map", _R: "Карта"},
    "fig.map": {_E: "{units} coloured by type; stars: agglomeration cores; equal-area projection of the extent",
                _R: "{units} по типам; звёзды: центры агломераций; равновеликая проекция"},
    "h.rules": {_E: "The typology as threshold rules", _R: "Типология в виде пороговых правил"},
    "rules.text": {_E: "A decision tree of depth {depth} reproduces the type of {fidelity} of the {units} "
                       "({cv} under 5-fold cross-validation).",
                   _R: "Дерево решений глубины {depth} воспроизводит тип {fidelity} {units_gen} "
                       "({cv} при 5-кратной перекрёстной проверке)."},
    "h.transitions": {_E: "Transitions between types over time", _R: "Переходы между типами во времени"},
    "transitions.text": {_E: "The fitted typology applied to every year; rows: type in a year, columns: type in the "
                             "next year observed (shares, with bootstrap intervals in transitions_lower/upper.csv).",
                         _R: "Типология применена к каждому году; строки: тип в году, столбцы: тип в следующем "
                             "наблюдаемом году (доли; бутстреп-интервалы в transitions_lower/upper.csv)."},
    "fig.transitions.title": {_E: "Transition shares between consecutive years",
                              _R: "Доли переходов между соседними годами"},
    "fig.transitions": {_E: "transition matrix", _R: "матрица переходов"},
    "transitions.switched": {_E: "{n} {units} switched type at least once ({switches} switches; "
                                 "transitions_switchers.csv).",
                             _R: "Сменили тип хотя бы раз {units_gen}: {n} (смен типа: {switches}; "
                                 "transitions_switchers.csv)."},
    "h.models": {_E: "Panel models", _R: "Панельные модели"},
    "fig.coefficients": {_E: "coefficients with 95% confidence intervals",
                         _R: "коэффициенты с 95% доверительными интервалами"},
    "models.spec_tests": {_E: "Specification tests (H0 of each: f_effects - no town effects; breusch_pagan - no "
                              "random effects; hausman and mundlak - random effects are consistent):",
                          _R: "Тесты спецификации (H0: f_effects - нет индивидуальных эффектов; breusch_pagan - нет "
                              "случайных эффектов; hausman и mundlak - оценка со случайными эффектами состоятельна):"},
    "h.discrete": {_E: "Discrete-choice models", _R: "Модели дискретного выбора"},
    "h.events": {_E: "Event studies", _R: "Анализ событий (event study)"},
    "h.spatial": {_E: "Spatial structure", _R: "Пространственная структура"},
    "h.truth": {_E: "Recovery of the synthetic truth", _R: "Восстановление синтетической истины"},
    "truth.text": {_E: "True number of types {n_true}, found {n_found}; adjusted Rand index against the true types "
                       "{ari}.",
                   _R: "Истинное число типов {n_true}, найдено {n_found}; скорректированный индекс Рэнда "
                       "относительно истинных типов {ari}."},
    "h.dictionary": {_E: "Data dictionary", _R: "Словарь данных"},
    "not_typed": {_E: "not typed", _R: "без типа"},
    "core": {_E: "agglomeration core", _R: "центр агломерации"},
    "map.title": {_E: "{Units} by type", _R: "{Units} по типам"},
    "selection.suptitle": {_E: "Evidence for the number of types", _R: "Обоснование числа типов"},
    "selection.chosen": {_E: "chosen k = {k}", _R: "выбрано k = {k}"},
    "stability.xlabel": {_E: "mean bootstrap Jaccard (Hennig: >= 0.75 valid, >= 0.85 highly stable)",
                         _R: "средний бутстреп-индекс Жаккара (Hennig: >= 0,75 устойчив, >= 0,85 высоко устойчив)"},
    "models.iv": {_E: "Instrumental variables (iv_tests.csv): first-stage F of the excluded instruments; Cragg-Donald "
                      "and Kleibergen-Paap rk Wald F of weak identification (no p-value: compare with Stock and Yogo's "
                      "critical values); Sargan / Hansen J of over-identification; endogeneity tests (H0: the "
                      "regressors are exogenous).",
                  _R: "Инструментальные переменные (iv_tests.csv): F первого шага для исключённых инструментов; F "
                      "Крэгга-Дональда и rk-Вальда Клейбергена-Паапа для слабой идентификации (без p-значения: "
                      "сравните с критическими значениями Стока и Иого); J Саргана / Хансена для "
                      "сверхидентификации; тесты эндогенности (H0: регрессоры экзогенны)."},
    "discrete.text": {_E: "Logit and probit models give the probability of the outcome level coded 1; a multinomial logit "
                          "gives the probability of each level against the reference level (the first of the levels "
                          "listed). Maximum likelihood on the town-years (statsmodels); average marginal effects with "
                          "delta-method standard errors (discrete_models.csv, discrete_coefficients.csv, "
                          "marginal_effects.csv).",
                      _R: "Логит- и пробит-модели дают вероятность уровня исхода с кодом 1; мультиномиальный логит - "
                          "вероятность каждого уровня относительно базового (первого из перечисленных). Метод "
                          "максимального правдоподобия по наблюдениям {unit} × год (statsmodels); средние предельные "
                          "эффекты со стандартными ошибками дельта-метода (discrete_models.csv, "
                          "discrete_coefficients.csv, marginal_effects.csv)."},
    "discrete.coef": {_E: "Coefficients (log-odds for logit and multinomial logit, index coefficients for probit):",
                      _R: "Коэффициенты (логарифмы шансов для логита и мультиномиального логита, коэффициенты индекса "
                          "для пробита):"},
    "discrete.me": {_E: "Average marginal effects on the probability of each outcome level:",
                    _R: "Средние предельные эффекты на вероятность каждого уровня исхода:"},
    "events.text": {_E: "Effect of the event by years since it (event time; -1 is the last year before) for each "
                        "estimator: Callaway and Sant'Anna (2021), Sun and Abraham (2021), imputation (Borusyak, "
                        "Jaravel and Spiess 2024) and the two-way fixed-effects event study (biased when effects "
                        "differ across cohorts and over time). Plots: points with pointwise 95% intervals (bars) and "
                        "uniform 95% bands (boxes, multiplier bootstrap); the pre-period is shaded. Tables: estimate "
                        "(standard error, clustered); overall: the average effect over treated town-years (two-way: "
                        "the static DiD); pre-trend p: Wald test that the pre-period estimates are 0 "
                        "(event_studies.csv, event_overall.csv).",
                    _R: "Эффект события по годам после него (время события; -1 - последний год до него) для каждой "
                        "оценки: Каллуэй и Сант-Анна (2021), Сан и Абрахам (2021), импутация (Борусяк, Жаравель и "
                        "Шпис 2024) и event study с двусторонними фиксированными эффектами (смещена, когда эффекты "
                        "различаются между когортами и во времени). Графики: точки с поточечными 95% интервалами "
                        "(отрезки) и равномерными 95% полосами (прямоугольники, мультипликативный бутстреп); период до "
                        "события затенён. Таблицы: оценка (стандартная ошибка, кластеризованная); overall: средний "
                        "эффект по наблюдениям ({unit} × год) после события (two-way: статическая разность "
                        "разностей); pre-trend p: тест Вальда равенства нулю оценок до события (event_studies.csv, "
                        "event_overall.csv)."},
    "events.study": {_E: "{name}: {outcome} by {cohort}", _R: "{name}: {outcome} по {cohort}"},
    "fig.event": {_E: "event study {name}: estimates, 95% intervals and uniform bands",
                  _R: "event study {name}: оценки, 95% интервалы и равномерные полосы"},
    "events.bacon": {_E: "Goodman-Bacon decomposition of the two-way DiD ({did}): {share} of the weight is on "
                         "forbidden comparisons (later-treated towns against already-treated towns as controls), "
                         "which bias it when effects change over time (event_bacon.csv).",
                     _R: "Разложение Гудмана-Бэкона двусторонней разности разностей ({did}): {share} веса приходится "
                         "на запрещённые сравнения (поздно затронутые {units} против уже затронутых в роли "
                         "контрольных), которые смещают оценку, когда эффекты меняются во времени (event_bacon.csv)."},
    "events.truth": {_E: "Against the synthetic truth (truth.json events.effects.{outcome}: the true average effect of "
                         "entry by event time, cohorts weighted by their number of towns, and the true overall ATT): "
                         "estimates, with * where the truth lies outside the method's uniform 95% band (overall: "
                         "outside its 95% interval).",
                     _R: "Сравнение с синтетической истиной (truth.json events.effects.{outcome}: истинный средний "
                         "эффект входа по времени события, когорты взвешены числом {units_gen}, и истинный общий "
                         "ATT): оценки, * - истина вне равномерной 95% полосы метода (overall: вне его 95% "
                         "интервала)."},
    "events.truth_row": {_E: "true path inside the band", _R: "истинная траектория внутри полосы"},
    "events.truth_col": {_E: "truth", _R: "истина"},
    "events.event_time": {_E: "event time", _R: "время события"},
    "events.pretrend_p": {_E: "pre-trend p", _R: "p предтренда"},
    "events.n_units": {_E: "towns", _R: "Число {units_gen}"},
    "yes": {_E: "yes", _R: "да"},
    "no_outside": {_E: "no ({n} of {of} outside)", _R: "нет ({n} из {of} вне полосы)"},
    "spatial.weights": {_E: "Weights: {kind}, transform {transform!r}, among the towns of the typology; one value per "
                            "town for the typology's period; {permutations} permutations. Moran's I above its expected "
                            "value -1/(n-1) (Geary's C below 1) means that neighbouring towns are alike; p_norm under "
                            "normality (two-sided), p_sim the folded pseudo p-value of the permutations (esda's "
                            "convention).",
                        _R: "Веса: {kind}, преобразование {transform!r}, между {units_gen} типологии; одно значение "
                            "на {unit} за период типологии; перестановок: {permutations}. I Морана выше ожидаемого "
                            "значения -1/(n-1) (C Гири ниже 1) означает, что соседние {units} похожи; p_norm - при "
                            "нормальности (двусторонний), p_sim - свёрнутое псевдо-p-значение перестановок "
                            "(соглашение esda)."},
    "spatial.lisa": {_E: "LISA clusters (local Moran, Benjamini-Hochberg q-value <= {fdr}; not significant "
                         "otherwise), towns per cluster:",
                     _R: "Кластеры LISA (локальный I Морана, q-значение Бенджамини-Хохберга <= {fdr}; иначе "
                         "незначимо), число {units_gen} в кластере:"},
    "fig.lisa": {_E: "LISA cluster map of {v}", _R: "карта кластеров LISA: {v}"},
    "fig.moran": {_E: "Moran scatter plot of {v}: standardized value against its spatial lag; slope = Moran's I",
                  _R: "диаграмма рассеяния Морана: {v}, стандартизованное значение против его пространственного "
                      "лага; наклон = I Морана"},
    "spatial.joins": {_E: "Join counts of the types (binary weights): same-type neighbour pairs against their "
                          "expectation under non-free sampling (z, p_norm upper tail) and permutations (p_sim upper "
                          "tail); a small p means that towns of the type are neighbours more often than chance. The "
                          "last row counts pairs of different types.",
                      _R: "Подсчёт соседств типов (бинарные веса): пары соседей одного типа против ожидаемого числа "
                          "при выборке без возвращения (z, p_norm - верхний хвост) и при перестановках (p_sim - "
                          "верхний хвост); малое p означает, что {units} типа соседствуют чаще, чем случайно. "
                          "Последняя строка - пары разных типов."},
    "spatial.residuals": {_E: "Moran's I of the residuals of the linear models, year by year (within residuals have a "
                              "zero mean in each town, so they are not averaged over years); a significant positive I "
                              "means spatially correlated errors (consider Driscoll-Kraay or spatial HAC standard "
                              "errors, or a spatial model).",
                          _R: "I Морана остатков линейных моделей по годам (внутригрупповые остатки имеют нулевое "
                              "среднее в каждой единице, поэтому по годам не усредняются); значимый положительный I "
                              "означает пространственно коррелированные ошибки (используйте стандартные ошибки "
                              "Дрисколла-Краая или пространственные HAC, или пространственную модель)."},
    "spatial.models": {_E: "Spatial panel models (maximum likelihood, fixed effects; rho: spatial lag of the outcome, "
                           "lambda: of the error; standard errors from the information matrix): {text}.",
                       _R: "Пространственные панельные модели (максимальное правдоподобие, фиксированные эффекты; "
                           "rho - пространственный лаг исхода, lambda - ошибки; стандартные ошибки по "
                           "информационной матрице): {text}."},
    "spatial.model": {_E: "{model}: {kind}, {effects} effects, {n_towns} towns x {n_years} years",
                      _R: "{model}: {kind}, эффекты {effects}, {units_gen} {n_towns} × лет {n_years}"},
    "spatial.dropped": {_E: " ({n} towns dropped to balance the panel)",
                        _R: " (исключено {units_gen}: {n}, чтобы сбалансировать панель)"},
    "spatial.lag": {_E: "spatial lag (SAR)", _R: "пространственный лаг (SAR)"},
    "spatial.error": {_E: "spatial error (SEM)", _R: "пространственная ошибка (SEM)"},
    "spatial.durbin": {_E: "spatial Durbin (SDM)", _R: "пространственная модель Дарбина (SDM)"},
    "spatial.impacts": {_E: "Direct, indirect (spillover) and total effects of each regressor (LeSage and Pace 2009), "
                            "standard errors simulated from the estimates' asymptotic normal distribution:",
                        _R: "Прямые, косвенные (перетоки) и общие эффекты каждого регрессора (LeSage и Pace 2009), "
                            "стандартные ошибки - симуляцией из асимптотического нормального распределения оценок:"},
}

#: the fit rows and words of the models' comparison table (``models.compare(labels=...)``) in
#: Russian; ``Towns`` is the study's units (:func:`fit_labels`)
FIT_RU = {
    "Estimator": "Метод оценки", "Effects": "Эффекты", "Standard errors": "Стандартные ошибки",
    "Observations": "Наблюдений", "R-squared": "R²", "R-squared within": "R² внутригрупповой",
    "First-stage F": "F первого шага", "Pseudo R-squared": "Псевдо-R²", "Estimates": "Оценки",
    "coefficients": "коэффициенты", "average marginal effects": "средние предельные эффекты",
    "none": "нет", "town": "город", "year": "год", "town, year": "город, год",
    "Standard errors in parentheses.": "Стандартные ошибки в скобках.",
}

#: column labels of the report's tables (the CSV tables keep their names)
COLUMNS_RU = {
    "rows": "строк", "type": "тип", "name": "название", "size": "число", "share": "доля", "k": "k",
    "most typical": "самые типичные", "most atypical": "самые нетипичные", "rule": "правило", "n": "n",
    "purity": "чистота", "n_from": "из типа", "stay": "остались", "lower": "нижняя граница",
    "upper": "верхняя граница", "verdict": "вывод", "group": "группа", "definition": "определение",
    "unit": "единица", "scale": "шкала", "source": "источник", "model": "модель", "term": "регрессор",
    "estimate": "оценка", "std_error": "ст. ошибка", "pvalue": "p-значение", "statistic": "статистика",
    "test_name": "тест", "test": "описание", "reason": "причина", "town_id": "код",
    "true": "истина", "covered": "в интервале", "ci_lower": "ДИ, нижн.", "ci_upper": "ДИ, верхн.",
    "jaccard_mean": "Жаккар, среднее", "jaccard_median": "Жаккар, медиана", "jaccard_sd": "Жаккар, ст. откл.",
    "dissolved": "распадается", "recovered": "восстанавливается", "admissible": "допустимо", "votes": "голоса",
    "chosen": "выбрано", "event time": "время события", "weight": "вес", "outcome": "исход", "kind": "вид",
    "formula": "формула", "levels": "уровни", "nobs": "наблюдений", "llf": "лог. правдоподобие",
    "pseudo_rsquared": "псевдо-R²", "cov_type": "ковариация", "effect": "эффект",
}

#: the words of the stability verdicts and the data dictionary's groups, scales and units
WORDS_RU = {
    "highly stable": "высоко устойчив", "stable": "устойчив", "valid": "устойчив", "unstable": "неустойчив",
    "specialization": "специализация", "diversification": "диверсификация", "corporate": "корпоративная структура",
    "agglomeration": "агломерация", "town_village": "город и село", "network": "сеть собственности",
    "dynamics": "динамика", "quality": "качество данных",
    "share": "доля", "ratio": "отношение", "count": "число", "distance": "расстояние", "potential": "потенциал",
    "amount": "сумма", "entropy": "энтропия", "dissimilarity": "несходство", "centrality": "центральность",
    "rate": "темп", "change": "изменение", "category": "категория",
    "km": "км", "nats": "наты", "sectors": "отраслей", "groups": "групп", "cores": "центров",
    "% per year": "% в год", "persons per km": "чел./км", "sector code": "код отрасли",
    "ratio (1 = national share)": "отношение (1 = доля по стране)", "index in [0, 2]": "индекс в [0, 2]",
    "index in [1/k, 1]": "индекс в [1/k, 1]", "index in [0, 1]": "индекс в [0, 1]",
    "index in [0, k - 1]": "индекс в [0, k - 1]", "employees per employee": "работников на работника",
    "link weight": "вес связей", "score (sums to 1)": "балл (сумма 1)",
    "share of shortest paths": "доля кратчайших путей", "jobs per base-year job": "рабочих мест на место базового года",
    "True": "да", "False": "нет",
}


def units_of(kinds, setting: str | None = None) -> str:
    """The units of a study, a key of :data:`UNITS`: ``setting`` (``[report] units``) when given,
    else from the kinds of the typed units (``kind``, or Rosstat's and SberIndex's
    ``municipal_type`` when the towns table has it: ``town`` or an urban okrug (``городской
    округ``) for towns; a kind naming a district, rayon or okrug (``муниципальный район``,
    ``муниципальный округ``) for districts; municipalities for a mixture)."""
    if setting:
        return setting
    ks = {str(k).lower() for k in kinds if isinstance(k, str)}
    town_like = {k for k in ks if k in {"town", "city", "urban", "gorod", "town_okrug"} or k.startswith("городск")}
    if not ks or ks <= town_like:
        return "towns"
    if all(any(w in k for w in ("district", "rayon", "okrug", "raion", "район", "округ")) for k in ks - town_like) \
            and not town_like:
        return "districts"
    return "municipalities"


def tr(key: str, lang: str = "en", units: str = "towns", **kw) -> str:
    """The string ``key`` in ``lang``, ``{placeholders}`` filled from ``kw`` and the units."""
    one, many, gen = UNITS[units][lang]
    return STRINGS[key][lang].format(unit=one, units=many, units_gen=gen, Units=many[:1].upper() + many[1:], **kw)


def fit_labels(lang: str, units: str = "towns") -> dict:
    """The texts of ``models.compare``'s fit rows in ``lang`` (empty in English): the row labels,
    the effects by the study's unit (``"town"`` -> ``"район"`` in a study of districts)."""
    if lang == "en":
        return {}
    one, _, gen = UNITS[units][lang]
    return {**FIT_RU, "Towns": gen[:1].upper() + gen[1:], "town": one, "town, year": f"{one}, год"}


def column(name, lang: str) -> str:
    """A table's column label in ``lang``."""
    return COLUMNS_RU.get(str(name), str(name)) if lang == "ru" else str(name)


def word(text, lang: str) -> str:
    """A dictionary word (group, scale, unit, verdict) in ``lang``."""
    return WORDS_RU.get(str(text), str(text)) if lang == "ru" else str(text)


#: the phrases of composed type names (``features.dictionary``: ``high``, ``low``, ``signed``) in
#: Russian: adjectives in the masculine singular (город, район and муниципалитет are masculine)
PHRASES_RU = {
    "accessible": "доступный", "brokering": "посреднический", "central": "центральный",
    "competitive": "конкурентоспособный", "concentrated": "концентрированный", "corporate": "корпоративный",
    "diversified": "диверсифицированный", "diversifying": "диверсифицирующийся",
    "externally controlled": "управляемый извне", "growing": "растущий", "isolated": "изолированный",
    "locally controlled": "управляемый на месте", "many-sector": "многоотраслевой",
    "mildly competitive": "умеренно конкурентоспособный", "mildly uncompetitive": "умеренно неконкурентоспособный",
    "narrow": "узкопрофильный", "non-brokering": "непосреднический", "non-corporate": "некорпоративный",
    "one-sector": "моноотраслевой", "peripheral": "периферийный", "shrinking": "сокращающийся",
    "simplified": "упрощённый", "simplifying": "упрощающийся", "single-employer": "монопрофильный",
    "slowly diversifying": "медленно диверсифицирующийся", "slowly growing": "медленно растущий",
    "slowly shrinking": "медленно сокращающийся", "slowly simplifying": "медленно упрощающийся",
    "specialized": "специализированный", "uncompetitive": "неконкурентоспособный",
    "unconcentrated": "неконцентрированный", "unspecialized": "неспециализированный",
    "controlled from agglomerations": "управляемый из агломераций", "controlled from hubs": "управляемый из узлов",
    "controlling its villages": "контролирующий свои сёла",
    "controlling no other towns": "не контролирующий другие города",
    "controlling other towns": "контролирующий другие города", "detached from its villages": "оторванный от своих сёл",
    "far from agglomerations": "удалённый от агломераций", "near an agglomeration": "близ агломерации",
    "not controlled from agglomerations": "не управляемый из агломераций",
    "not controlled from hubs": "не управляемый из узлов",
    "tied to agglomerations by ownership": "связанный с агломерациями собственностью",
    "tied to its villages": "связанный со своими сёлами",
    "with a declining industry mix": "с сокращающейся отраслевой структурой",
    "with a growing industry mix": "с растущей отраслевой структурой",
    "with a mildly declining industry mix": "с умеренно сокращающейся отраслевой структурой",
    "with a mildly growing industry mix": "с умеренно растущей отраслевой структурой",
    "with falling wages": "с падающей зарплатой", "with fast wage growth": "с быстрым ростом зарплаты",
    "with few corporate groups": "с немногими корпоративными группами",
    "with good access to agglomerations": "с хорошим доступом к агломерациям",
    "with growing employment": "с растущей занятостью", "with little related variety": "с малым родственным разнообразием",
    "with little unrelated variety": "с малым неродственным разнообразием",
    "with many corporate groups": "со многими корпоративными группами",
    "with poor access to agglomerations": "с плохим доступом к агломерациям",
    "with related variety": "с родственным разнообразием", "with shrinking employment": "с сокращающейся занятостью",
    "with slow wage growth": "с медленным ростом зарплаты", "with slowly falling wages": "с медленно падающей зарплатой",
    "with slowly growing employment": "с медленно растущей занятостью",
    "with slowly shrinking employment": "с медленно сокращающейся занятостью",
    "with unrelated variety": "с неродственным разнообразием", "with weak village ties": "со слабыми связями с сёлами",
    "without a dominant employer": "без доминирующего работодателя",
    "without ownership ties to agglomerations": "без связей собственности с агломерациями",
}
_AVERAGE = {"en": "average {unit}", "ru": "средний {unit}"}


def _parse_name(name: str) -> tuple[list[str], list[str]] | None:
    """The adjectives and qualifiers of a name composed by ``typology.estimator.naming``
    (``"adj adj town post, post"``), None for a name it did not compose."""
    head, sep, tail = (" " + name).partition(" town")
    if not sep or (tail and not tail.startswith(" ")):
        return None
    adjs, words = [], head.split()
    while words:  # longest known adjective phrase first
        for n in (3, 2, 1):
            cand = " ".join(words[:n])
            if len(words) >= n and cand in PHRASES_RU:
                adjs.append(cand)
                words = words[n:]
                break
        else:
            return None
    posts = [p.strip() for p in tail.split(",") if p.strip()]
    if any(p not in PHRASES_RU for p in posts):
        return None
    return adjs, posts


def type_name(name: str, lang: str = "en", units: str = "towns") -> str:
    """A type's name in ``lang`` with the study's unit word: a composed name phrase by phrase
    (``"corporate town far from agglomerations"`` -> ``"корпоративный город, удалённый от
    агломераций"``); a name the naming did not compose stays as written."""
    one = UNITS[units][lang][0]
    if name == "average town":
        return _AVERAGE[lang].format(unit=one)
    parsed = _parse_name(name)
    if parsed is None:
        return name
    adjs, posts = parsed
    if lang == "en":
        return " ".join([*adjs, one]) + "".join(f" {p}" if i == 0 else f", {p}" for i, p in enumerate(posts))
    return " ".join([*(PHRASES_RU[a] for a in adjs), one]) + "".join(f", {PHRASES_RU[p]}" for p in posts)


#: short definitions of the feature columns in Russian (the formula as in English)
DEFINITIONS_RU = {
    "lq_max": "коэффициент локализации ведущей отрасли, max_s s_rs / S_s",
    "leading_sector": "отрасль с наибольшим коэффициентом локализации",
    "leading_share": "доля ведущей отрасли в занятости s_rs",
    "n_specialized": "число отраслей с LQ >= 1",
    "krugman": "индекс несходства Кругмана sum_s |s_rs - S_s|",
    "hhi": "индекс Херфиндаля-Хиршмана sum_s s_rs^2",
    "hhi_norm": "нормированный HHI (H - 1/k) / (1 - 1/k)",
    "theil": "индекс специализации Тейла sum_s s_rs ln(s_rs / S_s)",
    "hachman": "индекс Хачмана 1 / sum_s s_rs^2 / S_s",
    "ogive": "индекс огивы sum_s (s_rs - 1/k)^2 / (1/k)",
    "entropy": "энтропия Шеннона -sum_s s_rs ln s_rs",
    "related_variety": "энтропия внутри разделов ОКВЭД, sum_g P_g H_g",
    "unrelated_variety": "энтропия между разделами ОКВЭД, -sum_g P_g ln P_g",
    "effective_sectors": "эффективное число отраслей 1 / HHI",
    "corp_share": "доля занятых в фирмах вертикально интегрированных групп",
    "external_control_share": "доля занятых в фирмах групп с центром в другом населённом пункте",
    "core_control_share": "доля занятых в фирмах групп с центром в агломерации",
    "largest_employer_share": "доля крупнейшего работодателя в занятости (>= 0,20: критерий моногорода)",
    "n_groups": "число корпоративных групп с фирмой в населённом пункте",
    "dist_core_km": "расстояние по большому кругу до ближайшего центра агломерации, км",
    "market_potential": "рыночный потенциал Харриса sum_{j != i} pop_j / d_ij",
    "core_access": "гравитационная доступность центров агломераций sum_c pop_c / d_ic",
    "core_links": "число центров агломераций, связанных собственностью",
    "rural_reach": "занятость в сельских муниципалитетах под контролем, на работника",
    "rural_links": "сумма весов связей с сельскими муниципалитетами",
    "pagerank": "взвешенный PageRank в сети собственности",
    "hub": "хаб-балл HITS", "authority": "балл авторитетности HITS",
    "betweenness": "ориентированная центральность по посредничеству",
    "pop_growth": "среднегодовой рост населения с базового года, % в год",
    "emp_growth": "среднегодовой рост занятости с базового года, % в год",
    "wage_growth": "среднегодовой рост средней зарплаты с базового года, % в год",
    "entropy_change": "изменение энтропии с базового года",
    "ss_national_share": "сдвиг-доля: национальная компонента на рабочее место базового года",
    "ss_industry_mix": "сдвиг-доля: отраслевая компонента на рабочее место базового года",
    "ss_competitive": "сдвиг-доля: конкурентная компонента на рабочее место базового года",
    "status": "стагнирующий / модернизирующийся / промежуточный",
    "coverage": "доля опубликованных (не скрытых) отраслевых ячеек",
}


def definition(name: str, text: str, lang: str) -> str:
    """The data dictionary's definition of feature ``name`` in ``lang`` (English ``text`` when
    no translation is kept)."""
    return DEFINITIONS_RU.get(name, text) if lang == "ru" else text
