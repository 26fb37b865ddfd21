{#- Whether the machine-learning models run (`--vars '{microseg__ml_enabled: false}'`). -#}
{% macro ml_enabled() -%}
    {{ return(var('microseg__ml_enabled', true) | as_bool) }}
{%- endmacro %}

{#- Whether int_person_features_at_cutoffs can keep its train and holdout rows: every model
    of the registry (source ml.ml_models, as the last training left it) is younger
    than `microseg__ml_retrain_after_days`, so the next training retrains nothing and the
    rows it was trained on stay as they are. Never on a first or full build, or when the
    setting is 0. Looked up, not ref'd: the registry is downstream of this model's
    inputs. The model names are those of microseg.ml (segmentation and ml.propensity.TARGETS). -#}
{% macro ml_training_rows_reusable() -%}
    {%- set days = var('microseg__ml_retrain_after_days') | int -%}
    {%- if not execute or flags.FULL_REFRESH or days <= 0 or this is none or load_relation(this) is none -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set registry = adapter.get_relation(
        database=target.database, schema=target.schema ~ '_ml', identifier='ml_models') -%}
    {%- if registry is none -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set models = ['segmentation', 'purchase_propensity', 'churn_risk'] -%}
    {%- set fresh -%}
        select count(distinct model_name) from {{ registry }}
        where model_name in ('{{ models | join("', '") }}')
            and trained_at > {{ dbt.dateadd('day', -1 * days, microseg.as_of_timestamp()) }}
    {%- endset -%}
    {{ return(run_query(fresh).columns[0].values()[0] == models | length) }}
{%- endmacro %}
