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

{#- Lift of an activated group over its holdout, as SQL expressions over four columns
    (persons and converted persons in each group): the conversion rates, absolute and
    relative lift, the pooled two-proportion z statistic and its two-sided p-value, the
    confidence interval of the difference (unpooled standard error), and the persons per
    group needed to detect `min_effect` (absolute) at `confidence` and `power` with the
    holdout's rate as the baseline. Null where a group is empty or the rates leave no
    variance (every or no person converted in both). -#}
{% macro lift_statistics(treated, treated_converted, holdout, holdout_converted,
    min_effect, confidence=0.95, power=0.8) -%}
    {#- Standard normal quantiles: two-sided for the confidence, one-sided for the power. -#}
    {%- set two_sided = {0.8: 1.2815515655446004, 0.9: 1.6448536269514722,
        0.95: 1.959963984540054, 0.99: 2.5758293035489004} -%}
    {%- set one_sided = {0.8: 0.8416212335729143, 0.9: 1.2815515655446004,
        0.95: 1.6448536269514722} -%}
    {%- if confidence not in two_sided or power not in one_sided -%}
        {{ exceptions.raise_compiler_error(
            "lift_statistics: confidence must be 0.8, 0.9, 0.95 or 0.99 and power 0.8, 0.9 or 0.95") }}
    {%- endif -%}
    {%- set z_alpha, z_beta = two_sided[confidence], one_sided[power] -%}
    {%- set rate_t = '(1.0 * ' ~ treated_converted ~ ' / nullif(' ~ treated ~ ', 0))' -%}
    {%- set rate_h = '(1.0 * ' ~ holdout_converted ~ ' / nullif(' ~ holdout ~ ', 0))' -%}
    {%- set pooled = '(1.0 * (' ~ treated_converted ~ ' + ' ~ holdout_converted ~ ') / nullif('
        ~ treated ~ ' + ' ~ holdout ~ ', 0))' -%}
    {%- set pooled_se = 'sqrt(' ~ pooled ~ ' * (1 - ' ~ pooled ~ ') * (1.0 / nullif(' ~ treated
        ~ ', 0) + 1.0 / nullif(' ~ holdout ~ ', 0)))' -%}
    {%- set z = '((' ~ rate_t ~ ' - ' ~ rate_h ~ ') / nullif(' ~ pooled_se ~ ', 0))' -%}
    {%- set se = 'sqrt(' ~ rate_t ~ ' * (1 - ' ~ rate_t ~ ') / nullif(' ~ treated ~ ', 0) + '
        ~ rate_h ~ ' * (1 - ' ~ rate_h ~ ') / nullif(' ~ holdout ~ ', 0))' -%}
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
        'p_value': '(2 * (1 - ' ~ microseg.normal_cdf('abs(' ~ z ~ ')') ~ '))',
        'difference_low': '((' ~ rate_t ~ ' - ' ~ rate_h ~ ') - ' ~ z_alpha ~ ' * ' ~ se ~ ')',
        'difference_high': '((' ~ rate_t ~ ' - ' ~ rate_h ~ ') + ' ~ z_alpha ~ ' * ' ~ se ~ ')',
        'persons_needed_per_group': needed,
    }) }}
{%- endmacro %}
