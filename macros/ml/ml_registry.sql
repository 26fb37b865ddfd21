{#- on-run-start: the model registry's two tables (source ml), empty until
    `microseg train` writes them, so that every build, the first included, can read them.
    Also with the ML models off: ledger_start, after it, counts every source's rows. -#}
{% macro ml_registry_start() %}
    {%- if not execute -%}
        {{ return('select 1') }}
    {%- endif -%}
    {%- set schema = target.schema ~ '_ml' -%}
    {%- set string = dbt.type_string() -%}
        create schema if not exists {{ schema }};
        create table if not exists {{ schema }}.ml_models (
            model_version {{ string }},
            model_name {{ string }},
            model_kind {{ string }},
            trained_at {{ dbt.type_timestamp() }},
            training_rows bigint,
            parameters_json {{ string }},
            metrics_json {{ string }}
        );
        create table if not exists {{ schema }}.ml_model_quality (
            quality_metric_id {{ string }},
            model_version {{ string }},
            model_name {{ string }},
            metric_group {{ string }},
            item {{ string }},
            metric {{ string }},
            value double,
            status {{ string }},
            reason {{ string }}
        );
        select 1
{% endmacro %}

{#- The latest registered version of every model: name -> {version, kind, parameters}
    (parsed JSON). Read while the calling model runs, so that its SQL carries the
    parameters as literals; empty at parse time, before any training and when compiling
    before the registry's view exists. -#}
{% macro latest_ml_models() %}
    {%- if not execute or load_relation(ref('int_ml_models')) is none -%}
        {{ return({}) }}
    {%- endif -%}
    {%- set latest -%}
        select model_name, model_version, model_kind, parameters_json
        from {{ ref('int_ml_models') }}
        qualify row_number() over (
            partition by model_name order by trained_at desc, model_version desc
        ) = 1
    {%- endset -%}
    {%- set models = {} -%}
    {%- for row in run_query(latest).rows -%}
        {%- do models.update({row[0]: {
            'version': row[1], 'kind': row[2],
            'parameters': microseg.ml_checked_parameters(row[0], row[1], row[3]),
        }}) -%}
    {%- endfor -%}
    {{ return(models) }}
{% endmacro %}

{#- A registry row's parameters, refused unless they are what `microseg train` writes:
    numbers where numbers go, lowercase identifiers for columns and labels, a version of
    the form name@clock-hash. They become SQL text, so anything else (an edited row) stops
    the build instead of reaching it. -#}
{% macro ml_checked_parameters(name, version, parameters_json) %}
    {%- set identifier = modules.re.compile('^[a-z_][a-z0-9_]{0,62}$') -%}
    {%- set problems = [] -%}
    {%- if not modules.re.match('^[a-z_][a-z0-9_]{0,62}@[0-9T]{15}-[0-9a-f]{8}$', version or '') -%}
        {%- do problems.append('version ' ~ version) -%}
    {%- endif -%}
    {%- set parameters = fromjson(parameters_json) if parameters_json else none -%}
    {%- if parameters is not mapping or parameters.get('scaler') is not mapping -%}
        {{ exceptions.raise_compiler_error(
            "the registry's model " ~ version ~ " has no scaler in its parameters: delete "
            ~ "the row from the registry (<schema>_ml.ml_models) and run `microseg train`") }}
    {%- endif -%}
    {%- set numbers = parameters.scaler.get('center', []) + parameters.scaler.get('scale', [])
        + parameters.get('coefficients', []) + [parameters.get('intercept', 0)]
        + (parameters.get('pca_mean') or []) -%}
    {%- for rows in [parameters.get('centroids', []), parameters.get('pca_components') or []] -%}
        {%- for row in rows -%}
            {%- do numbers.extend(row) -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- for number in numbers if number is not number or number is boolean -%}
        {%- do problems.append('a parameter ' ~ number) -%}
    {%- endfor -%}
    {%- for text in parameters.scaler.get('columns', []) + parameters.get('labels', [])
        if text is not string or not identifier.match(text) -%}
        {%- do problems.append('a column or label ' ~ text) -%}
    {%- endfor -%}
    {%- if problems -%}
        {{ exceptions.raise_compiler_error(
            "the registry's model " ~ name ~ " is not one `microseg train` wrote ("
            ~ (problems[:3] | join('; ')) ~ "): delete the row from the registry "
            ~ "(<schema>_ml.ml_models) and run `microseg train`") }}
    {%- endif -%}
    {{ return(parameters) }}
{% endmacro %}

{#- A stored scaler's columns as SQL: log1p of the value clipped at 0 (a missing `days_since`
    counts as `never_days`, other missing values as 0), then (x - center) / scale, as
    microseg.ml.Scaler.transform does. -#}
{% macro ml_scaled(scaler, relation_alias, never_days=3650.0) %}
    {%- set columns = [] -%}
    {%- for column in scaler['columns'] -%}
        {%- set missing = never_days if column.startswith('days_since') else 0.0 -%}
        {%- do columns.append(
            '(ln(1 + greatest(coalesce(cast(' ~ relation_alias ~ '.' ~ column ~ ' as double), '
            ~ missing ~ '), 0)) - (' ~ scaler['center'][loop.index0] ~ ')) / ('
            ~ scaler['scale'][loop.index0] ~ ')') -%}
    {%- endfor -%}
    {{ return(columns) }}
{% endmacro %}

{#- A stored logistic regression's probability, 1 / (1 + exp(-(scaled . coefficients + intercept))). -#}
{% macro ml_logistic_probability(parameters, relation_alias) -%}
    {%- set terms = [] -%}
    {%- for scaled in microseg.ml_scaled(parameters['scaler'], relation_alias) -%}
        {%- do terms.append('(' ~ scaled ~ ') * (' ~ parameters['coefficients'][loop.index0] ~ ')') -%}
    {%- endfor -%}
    1 / (1 + exp(-1 * ({{ terms | join(' + ') }} + ({{ parameters['intercept'] }}))))
{%- endmacro %}

{#- A stored K-means model's distances to each centroid, in the scaled (or principal
    component) space, as ClusterModel.project does. -#}
{% macro ml_centroid_distances(parameters, relation_alias) %}
    {%- set points = microseg.ml_scaled(parameters['scaler'], relation_alias) -%}
    {%- if parameters['pca_components'] -%}
        {%- set projected = [] -%}
        {%- for component in parameters['pca_components'] -%}
            {%- set terms = [] -%}
            {%- for scaled in points -%}
                {%- do terms.append('((' ~ scaled ~ ') - (' ~ parameters['pca_mean'][loop.index0]
                    ~ ')) * (' ~ component[loop.index0] ~ ')') -%}
            {%- endfor -%}
            {%- do projected.append(terms | join(' + ')) -%}
        {%- endfor -%}
        {%- set points = projected -%}
    {%- endif -%}
    {%- set distances = [] -%}
    {%- for centroid in parameters['centroids'] -%}
        {%- set squares = [] -%}
        {%- for point in points -%}
            {%- do squares.append('power((' ~ point ~ ') - (' ~ centroid[loop.index0] ~ '), 2)') -%}
        {%- endfor -%}
        {%- do distances.append('sqrt(' ~ squares | join(' + ') ~ ')') -%}
    {%- endfor -%}
    {{ return(distances) }}
{% endmacro %}

{#- One propensity model's scores as a select: probability (rounded to 6 places, as the
    numpy reference), its percentile among the scored (the average rank of ties, 0-100]
    and the model version; no rows without a registered model. `rows` names the scored
    rows (the `score` snapshot of int_person_features_at_cutoffs). -#}
{% macro ml_propensity_scores(name, model, rows, recently_active_only) -%}
    {%- if model is none -%}
        select
            person_key,
            cast(null as double) as {{ name }},
            cast(null as double) as {{ name }}_percentile,
            cast(null as {{ dbt.type_string() }}) as {{ name }}_model_version
        from {{ rows }}
        where false
    {%- else -%}
        select
            person_key,
            probability as {{ name }},
            round(
                100.0 * (
                    rank() over (order by probability)
                    + (count(*) over (partition by probability) - 1) / 2.0
                ) / count(*) over (),
                2
            ) as {{ name }}_percentile,
            '{{ model.version }}' as {{ name }}_model_version
        from (
            select
                person_key,
                round({{ microseg.ml_logistic_probability(model.parameters, rows) }}, 6) as probability
            from {{ rows }}
            where
                snapshot = 'score'
                {%- if recently_active_only %} and events_90d > 0{% endif %}
        ) as scored
    {%- endif -%}
{%- endmacro %}
