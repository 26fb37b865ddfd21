-- Nothing that looks like an e-mail address in any text column of a sync table.
{%- set sync_tables = ['sync_email_audiences', 'sync_ad_audiences', 'sync_crm_traits'] %}

{% for table in sync_tables %}
    {%- set relation = ref(table) -%}
    {%- set columns = adapter.get_columns_in_relation(relation) if execute else [] -%}
    select
        '{{ table }}' as sync_table,
        count(*) as rows_with_at_sign
    from {{ relation }}
    where
        {% for column in columns if column.is_string() -%}
            {{ adapter.quote(column.name) }} like '%@%' or
        {% endfor -%}
        false
    having count(*) > 0
    {% if not loop.last %}union all{% endif %}
{% endfor %}
