{#- The standard normal CDF in plain SQL, for any warehouse (neither DuckDB nor Snowflake has
    erf): Abramowitz and Stegun 7.1.26, absolute error below 1.5e-7. -#}
{% macro normal_cdf(x) -%}
    {%- set z = '(abs(' ~ x ~ ') / sqrt(2.0))' -%}
    {%- set t = '(1.0 / (1.0 + 0.3275911 * ' ~ z ~ '))' -%}
    (0.5 * (1.0 + sign({{ x }}) * (1.0 - (
        0.254829592 * {{ t }}
        - 0.284496736 * power({{ t }}, 2)
        + 1.421413741 * power({{ t }}, 3)
        - 1.453152027 * power({{ t }}, 4)
        + 1.061405429 * power({{ t }}, 5)
    ) * exp(-1.0 * {{ z }} * {{ z }}))))
{%- endmacro %}

{#- The standard normal quantile for a two-sided `confidence` (0.8, 0.9, 0.95 or 0.99). -#}
{% macro normal_quantile_two_sided(confidence) %}
    {%- set quantiles = {0.8: 1.2815515655446004, 0.9: 1.6448536269514722,
        0.95: 1.959963984540054, 0.99: 2.5758293035489004} -%}
    {%- if confidence not in quantiles -%}
        {{ exceptions.raise_compiler_error(
            'microseg__lift_confidence must be 0.8, 0.9, 0.95 or 0.99, not ' ~ confidence) }}
    {%- endif -%}
    {{ return(quantiles[confidence]) }}
{% endmacro %}

{#- Lift of an activated group over its holdout, as SQL expressions over four columns
    (persons and converted persons in each group): the conversion rates, absolute and
    relative lift, the pooled two-proportion z statistic (its p-value: two_sided_p_value), the
    confidence interval of the difference (Agresti-Caffo), and the persons per
    group needed to detect `min_effect` (absolute) at `confidence` and `power` with the
    holdout's rate as the baseline. Null where a group is empty or the rates leave no
    variance (every or no person converted in both). -#}
{% macro lift_statistics(treated, treated_converted, holdout, holdout_converted,
    min_effect, confidence=0.95, power=0.8) -%}
    {%- set z_alpha = microseg.normal_quantile_two_sided(confidence) -%}
    {%- set one_sided = {0.8: 0.8416212335729143, 0.9: 1.2815515655446004,
        0.95: 1.6448536269514722} -%}
    {%- if power not in one_sided -%}
        {{ exceptions.raise_compiler_error(
            'microseg__lift_power must be 0.8, 0.9 or 0.95, not ' ~ power) }}
    {%- endif -%}
    {%- set z_beta = one_sided[power] -%}
    {%- set rate_t = '(1.0 * ' ~ treated_converted ~ ' / nullif(' ~ treated ~ ', 0))' -%}
    {%- set rate_h = '(1.0 * ' ~ holdout_converted ~ ' / nullif(' ~ holdout ~ ', 0))' -%}
    {%- set pooled = '(1.0 * (' ~ treated_converted ~ ' + ' ~ holdout_converted ~ ') / nullif('
        ~ treated ~ ' + ' ~ holdout ~ ', 0))' -%}
    {%- set pooled_se = 'sqrt(' ~ pooled ~ ' * (1 - ' ~ pooled ~ ') * (1.0 / nullif(' ~ treated
        ~ ', 0) + 1.0 / nullif(' ~ holdout ~ ', 0)))' -%}
    {%- set z = '((' ~ rate_t ~ ' - ' ~ rate_h ~ ') / nullif(' ~ pooled_se ~ ', 0))' -%}
    {#- Agresti-Caffo: one success and one failure added to each group, which keeps the
        interval honest when a group has no (or only) conversions. -#}
    {%- set adjusted_t = '((' ~ treated_converted ~ ' + 1.0) / (' ~ treated ~ ' + 2.0))' -%}
    {%- set adjusted_h = '((' ~ holdout_converted ~ ' + 1.0) / (' ~ holdout ~ ' + 2.0))' -%}
    {%- set adjusted_difference = '(' ~ adjusted_t ~ ' - ' ~ adjusted_h ~ ')' -%}
    {%- set se = 'sqrt(' ~ adjusted_t ~ ' * (1 - ' ~ adjusted_t ~ ') / (' ~ treated ~ ' + 2.0) + '
        ~ adjusted_h ~ ' * (1 - ' ~ adjusted_h ~ ') / (' ~ holdout ~ ' + 2.0))' -%}
    {#- The rate to detect: the holdout's plus the effect, at most 1. -#}
    {%- set target = 'least(' ~ rate_h ~ ' + ' ~ min_effect ~ ', 1.0)' -%}
    {%- set mean = '((' ~ rate_h ~ ' + ' ~ target ~ ') / 2)' -%}
    {%- set needed = 'ceil(power(' ~ z_alpha ~ ' * sqrt(2 * ' ~ mean ~ ' * (1 - ' ~ mean ~ ')) + '
        ~ z_beta ~ ' * sqrt(' ~ rate_h ~ ' * (1 - ' ~ rate_h ~ ') + ' ~ target ~ ' * (1 - '
        ~ target ~ ')), 2) / power(' ~ min_effect ~ ', 2))' -%}
    {{ return({
        'treated_rate': rate_t,
        'holdout_rate': rate_h,
        'absolute_lift': '(' ~ rate_t ~ ' - ' ~ rate_h ~ ')',
        'relative_lift': '((' ~ rate_t ~ ' - ' ~ rate_h ~ ') / nullif(' ~ rate_h ~ ', 0))',
        'z_statistic': z,
        'difference_low': 'case when ' ~ treated ~ ' > 0 and ' ~ holdout ~ ' > 0 then '
            ~ adjusted_difference ~ ' - ' ~ z_alpha ~ ' * ' ~ se ~ ' end',
        'difference_high': 'case when ' ~ treated ~ ' > 0 and ' ~ holdout ~ ' > 0 then '
            ~ adjusted_difference ~ ' + ' ~ z_alpha ~ ' * ' ~ se ~ ' end',
        'persons_needed_per_group': needed,
    }) }}
{%- endmacro %}

{#- The two-sided p-value of a z statistic (a column: the CDF repeats it 9 times). -#}
{% macro two_sided_p_value(z) -%}
    (2 * (1 - {{ microseg.normal_cdf('abs(' ~ z ~ ')') }}))
{%- endmacro %}

{#- The interval of a difference of means (activated minus holdout) at `confidence`, from
    each group's persons, sum and sum of squares: the normal approximation with each group's
    own sample variance (Welch's standard error). Null for a group of fewer than 2. -#}
{% macro mean_difference_interval(treated, treated_sum, treated_squares, holdout, holdout_sum,
    holdout_squares, confidence=0.95) -%}
    {%- set z_alpha = microseg.normal_quantile_two_sided(confidence) -%}
    {%- set parts = [] -%}
    {%- for n, total, squares in [(treated, treated_sum, treated_squares),
        (holdout, holdout_sum, holdout_squares)] -%}
        {%- do parts.append('greatest(' ~ squares ~ ' - ' ~ total ~ ' * ' ~ total ~ ' / nullif(' ~ n
            ~ ', 0), 0) / nullif(' ~ n ~ ' - 1, 0) / nullif(' ~ n ~ ', 0)') -%}
    {%- endfor -%}
    {%- set difference = '(1.0 * ' ~ treated_sum ~ ' / nullif(' ~ treated ~ ', 0) - 1.0 * '
        ~ holdout_sum ~ ' / nullif(' ~ holdout ~ ', 0))' -%}
    {%- set se = 'sqrt(' ~ parts | join(' + ') ~ ')' -%}
    {{ return({
        'difference': difference,
        'low': '(' ~ difference ~ ' - ' ~ z_alpha ~ ' * ' ~ se ~ ')',
        'high': '(' ~ difference ~ ' + ' ~ z_alpha ~ ' * ' ~ se ~ ')',
    }) }}
{%- endmacro %}
