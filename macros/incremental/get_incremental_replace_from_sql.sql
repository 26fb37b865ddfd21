{#- Incremental strategy `replace_from`: for every partition (e.g. a device) in the
    batch, delete the target's rows from the batch's earliest `replace_order_by`
    value onwards (all of the partition's rows when the model sets no
    `replace_order_by`), then insert the batch. Rows whose `replace_row_marker` column is
    null are tombstones: they only widen the deletion and are not inserted. This
    lets a late event re-open, merge or split a device's sessions, and lets a device
    that turned out to be a bot disappear, without touching other partitions. -#}
{% macro get_incremental_replace_from_sql(arg_dict) %}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set batch = arg_dict['temp_relation'] -%}
    {%- set partition = config.require('replace_partition_by') -%}
    {%- set order_by = config.get('replace_order_by') -%}
    {%- set marker = config.require('replace_row_marker') -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    delete from {{ target }}
    using (
        select {{ partition }}{% if order_by %}, min({{ order_by }}) as replace_from{% endif %}
        from {{ batch }}
        group by {{ partition }}
    ) as replacements
    where {{ target }}.{{ partition }} = replacements.{{ partition }}
        {%- if order_by %}
        and {{ target }}.{{ order_by }} >= replacements.replace_from
        {%- endif %};

    insert into {{ target }} ({{ columns }})
    select {{ columns }}
    from {{ batch }}
    where {{ marker }} is not null
{% endmacro %}
