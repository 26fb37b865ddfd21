{#- The segment catalogue: `microseg__segments` plus one `rfm_<class>` segment per RFM
    class under `customers`, one `cluster_<label>` segment per cluster label and one
    segment per lookalike (the machine-learned ones read fct_person_scores and
    fct_lookalike_scores), with defaults filled in and checked. Raises a compiler error
    naming the entry when the catalogue is inconsistent. -#}
{% macro segment_catalogue() %}
    {%- set channels_known = ['email', 'ads', 'crm'] -%}
    {%- set required = ['key', 'name', 'description', 'rule', 'priority', 'owner', 'channels'] -%}
    {%- set entries = [] -%}
    {%- for entry in var('microseg__segments') -%}
        {%- do entries.append(entry) -%}
    {%- endfor -%}
    {%- for rfm in var('microseg__rfm_classes') -%}
        {%- do entries.append({
            'key': 'rfm_' ~ rfm.key,
            'name': 'RFM: ' ~ rfm.key | replace('_', ' '),
            'description': rfm.description,
            'rule': "rfm_class = '" ~ rfm.key ~ "'",
            'parent': 'customers',
            'priority': 800 + loop.index,
            'owner': 'crm',
            'channels': ['email', 'crm'],
        }) -%}
    {%- endfor -%}
    {%- for cluster in var('microseg__cluster_segments') -%}
        {%- do entries.append({
            'key': 'cluster_' ~ cluster.label,
            'name': 'Cluster: ' ~ cluster.label | replace('_', ' '),
            'description': cluster.description,
            'rule': "cluster_label = '" ~ cluster.label ~ "'",
            'priority': 850 + loop.index,
            'owner': 'analytics',
            'channels': cluster.channels,
            'max_share': cluster.get('max_share'),
        }) -%}
    {%- endfor -%}
    {%- for lookalike in var('microseg__lookalikes') -%}
        {%- do entries.append({
            'key': lookalike.key,
            'name': lookalike.name,
            'description': lookalike.description,
            'rule': 'is_lookalike_' ~ lookalike.key,
            'priority': lookalike.priority,
            'owner': lookalike.owner,
            'channels': lookalike.channels,
        }) -%}
    {%- endfor -%}

    {%- set keys = entries | map(attribute='key') | list -%}
    {%- set priorities = entries | map(attribute='priority') | list -%}
    {%- set catalogue = [] -%}
    {%- for entry in entries -%}
        {%- for field in required if entry.get(field) is none -%}
            {{ exceptions.raise_compiler_error(
                "segment '" ~ entry.get('key') ~ "' has no " ~ field) }}
        {%- endfor -%}
        {%- if keys.count(entry.key) > 1 -%}
            {{ exceptions.raise_compiler_error("segment key '" ~ entry.key ~ "' is used twice") }}
        {%- endif -%}
        {%- if priorities.count(entry.priority) > 1 -%}
            {{ exceptions.raise_compiler_error(
                "segment '" ~ entry.key ~ "': priority " ~ entry.priority ~ " is used twice") }}
        {%- endif -%}
        {%- if entry.get('parent') and entry.parent not in keys -%}
            {{ exceptions.raise_compiler_error(
                "segment '" ~ entry.key ~ "': unknown parent '" ~ entry.parent ~ "'") }}
        {%- endif -%}
        {%- for channel in entry.channels if channel not in channels_known -%}
            {{ exceptions.raise_compiler_error(
                "segment '" ~ entry.key ~ "': unknown channel '" ~ channel
                ~ "' (known: " ~ channels_known | join(', ') ~ ")") }}
        {%- endfor -%}
        {%- do catalogue.append({
            'key': entry.key,
            'name': entry.name,
            'description': entry.description,
            'rule': entry.rule,
            'parent': entry.get('parent'),
            'priority': entry.priority,
            'owner': entry.owner,
            'channels': entry.channels,
            'min_size': entry.get('min_size', var('microseg__min_segment_size')),
            'max_share': entry.get('max_share') or var('microseg__max_segment_share'),
            'min_interactions': entry.get('min_interactions', var('microseg__min_interactions')),
            'holdout_percent': entry.get('holdout_percent', var('microseg__holdout_percent')),
        }) -%}
    {%- endfor -%}
    {{ return(catalogue) }}
{% endmacro %}
