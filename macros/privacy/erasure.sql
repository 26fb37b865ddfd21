{#- Right to erasure (models/staging/privacy): helpers that keep an erased person out of
    every table microseg writes. All matching is on salted hashes. -#}

{#- The erasures table, found without ref() so that hooks can use it too. Base models
    read base_privacy__erasures; every other model and the hooks read its staging view, and
    models that filter on it declare `-- depends_on: {{ ref('stg_privacy__erasures') }}`
    (base models: base_privacy__erasures). -#}
{% macro erasures_relation() %}
    {%- set in_base = model is mapping and (model.get('name') or '').startswith('base_') -%}
    {%- set name = 'base_privacy__erasures' if in_base else 'stg_privacy__erasures' -%}
    {%- set node = (graph.get('nodes') or {}).get('model.microseg.' ~ name) -%}
    {%- if node is none -%}
        {{ return(none) }}  {#- a unit test's context has no graph: nothing is erased there -#}
    {%- endif -%}
    {{ return(api.Relation.create(database=node.database, schema=node.schema, identifier=node.alias)) }}
{% endmacro %}

{#- True when anyone has been erased (checked when the SQL is compiled, so the filters
    cost nothing until someone asks). -#}
{% macro erasures_exist() %}
    {%- if not execute -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set relation = microseg.erasures_relation() -%}
    {%- set relation = load_relation(relation) if relation is not none else none -%}
    {%- if relation is none -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set found = run_query('select count(*) from ' ~ relation).columns[0].values()[0] -%}
    {{ return(found > 0) }}
{% endmacro %}

{#- The form an identifier takes in the erasure tables: salted, and unlike any id that
    leaves the warehouse (the salted e-mail hash of the sync tables included). -#}
{% macro erasure_hash(expression) -%}
    {{ microseg.salted_hash(dbt.concat(["'erasure|'", expression])) }}
{%- endmacro %}

{#- Boolean SQL: the row belongs to an erased person. `columns` maps an expression to
    the kind of identifier it holds (user_id, anonymous_id, email, person_key), or to
    `email_sha256` (a plain SHA-256 of an e-mail), `email_sha256_google` (the same after
    Google's normalisation, customer_match_email) and `email_salted` (the salted one). -#}
{% macro erased_condition(columns) -%}
    {%- set erasures = microseg.erasures_relation() -%}
    (
        false
        {%- for expression, kind in columns.items() %}
        or coalesce(
            {{ microseg.erasure_hash(expression) }} in (
                select identifier_hash from {{ erasures }} where identifier_type = '{{ kind }}'
            ),
            false
        )
        {%- endfor %}
    )
{%- endmacro %}

{#- The identifier columns a table of microseg's may carry, and what each holds. -#}
{% macro erasable_columns(column_names) %}
    {%- set kinds = {
        'person_key': 'person_key', 'user_id': 'user_id', 'anonymous_id': 'anonymous_id',
        'email': 'email', 'email_sha256_unsalted': 'email_sha256',
        'email_sha256_salted': 'email_salted', 'email_sha256_google': 'email_sha256_google',
    } -%}
    {%- set columns = {} -%}
    {%- for name in column_names if name | lower in kinds -%}
        {%- do columns.update({name: kinds[name | lower]}) -%}
    {%- endfor -%}
    {{ return(columns) }}
{% endmacro %}

{#- Post-hook of incremental models and snapshots: rows of erased persons written by
    earlier runs go. -#}
{% macro purge_erased() %}
    {%- if not microseg.erasures_exist() -%}
        {{ return('select 1') }}
    {%- endif -%}
    {%- set names = adapter.get_columns_in_relation(this) | map(attribute='name') | list -%}
    delete from {{ this }}
    where {{ microseg.erased_condition(microseg.erasable_columns(names)) }}
{% endmacro %}

{#- on-run-end: the published copies (which change only on publication) lose erased
    persons at once, and the erasure log records each newly erased identifier by its
    salted hash with the tables it was removed from. -#}
{% macro purge_erased_everywhere() %}
    {%- if not execute or not microseg.erasures_exist() -%}
        {{ return('select 1') }}
    {%- endif -%}
    {%- set published = target.schema ~ '_published' -%}
    {%- set columns = run_query(
        "select table_name, column_name from information_schema.columns "
        ~ "where lower(table_schema) = '" ~ published | lower ~ "' order by 1") -%}
    {%- set tables = {} -%}
    {%- for row in columns.rows -%}
        {%- do tables.setdefault(row[0], []).append(row[1]) -%}
    {%- endfor -%}
    {%- set purged = [] -%}
    {%- for node in graph.nodes.values()
        if node.resource_type in ['model', 'snapshot'] and node.package_name == 'microseg'
        and node.config.materialized != 'ephemeral' and node.config.enabled -%}
        {%- do purged.append(node.schema ~ '.' ~ node.alias) -%}
    {%- endfor -%}
    {%- for table, names in tables.items() -%}
        {%- set erasable = microseg.erasable_columns(names) -%}
        {%- if erasable %}
    delete from {{ published }}.{{ table }} where {{ microseg.erased_condition(erasable) }};
            {%- do purged.append(published ~ '.' ~ table) -%}
        {%- endif -%}
    {%- endfor %}
    insert into {{ microseg.ledger_schema() }}.erasure_log
    select
        erasures.identifier_type,
        erasures.identifier_hash,
        erasures.requested_at,
        {{ dbt.current_timestamp() }},
        '{{ invocation_id }}',
        '{{ purged | join(",") }}'
    from {{ microseg.erasures_relation() }} as erasures
    where not exists (
        select 1 from {{ microseg.ledger_schema() }}.erasure_log as logged
        where logged.identifier_hash = erasures.identifier_hash
    )
{% endmacro %}
