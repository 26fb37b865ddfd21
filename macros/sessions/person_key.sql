{#- The person an event or session belongs to: `user:<user_id>` once the device's
    user is known, otherwise `anon:<anonymous_id>` (stable for never-identified visitors). -#}
{% macro person_key(user_id, anonymous_id) -%}
    case
        when {{ user_id }} is not null then {{ dbt.concat(["'user:'", user_id]) }}
        else {{ dbt.concat(["'anon:'", anonymous_id]) }}
    end
{%- endmacro %}
