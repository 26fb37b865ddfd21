-- Nothing that looks like an e-mail address in any text column of a sync table. The
-- columns come from the enforced contracts in the YAML, so no warehouse introspection.
{%- set sync_tables = [
    'sync_email_audiences', 'sync_ad_audiences', 'sync_crm_traits',
    'sync_google_customer_match', 'sync_meta_custom_audiences',
] %}

{% for table in sync_tables %}
    {%- set model = graph.nodes.values() | selectattr('name', 'equalto', table) | first -%}
    {%- set text_columns = model.columns.values() | selectattr('data_type', 'equalto', 'varchar') -%}
    select
        '{{ table }}' as sync_table,
        count(*) as rows_with_at_sign
    from {{ ref(table) }}
    where
        false
        {% for column in text_columns -%}
            or {{ column.name }} like '%@%'
        {% endfor %}
    having count(*) > 0
    {% if not loop.last %}union all{% endif %}
{% endfor %}
