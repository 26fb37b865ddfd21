{#- The segment catalogue: `microseg__segments` plus one `rfm_<class>` segment per RFM
    class under `customers`, one `cluster_<label>` segment per cluster label and one
    segment per lookalike (the machine-learned ones read fct_person_scores and
    fct_lookalike_scores), with defaults filled in and checked. Raises a compiler error
    naming the entry when the catalogue is inconsistent or unsafe: keys match
    ^[a-z][a-z0-9_]{0,62}$, the numbers are in range, and (while executing) every rule
    passes check_segment_rule. src/microseg/rules.py makes the same checks. -#}
{% macro segment_catalogue() %}
    {%- set channels_known = ['email', 'ads', 'crm'] -%}
    {%- set required = ['key', 'name', 'description', 'rule', 'priority', 'owner', 'channels'] -%}
    {%- set entries = [] -%}
    {%- for entry in var('microseg__segments') -%}
        {%- do microseg.checked_segment_mapping(entry, 'segment') -%}
        {%- do entries.append(entry) -%}
    {%- endfor -%}
    {%- for rfm in var('microseg__rfm_classes') -%}
        {%- do microseg.checked_segment_mapping(rfm, 'RFM class') -%}
        {%- set key = microseg.checked_segment_key(rfm.get('key'), 'RFM class') -%}
        {%- for bound in [rfm.get('r'), rfm.get('fm')] -%}
            {%- if bound is string or bound is not iterable or bound | length != 2
                or bound | reject('integer') | list or not (1 <= bound[0] <= bound[1] <= 5) -%}
                {{ exceptions.raise_compiler_error(
                    "RFM class '" ~ key ~ "': r and fm must be [low, high] in 1-5") }}
            {%- endif -%}
        {%- endfor -%}
        {%- do entries.append({
            'key': 'rfm_' ~ key,
            'name': 'RFM: ' ~ key | replace('_', ' '),
            'description': rfm.get('description'),
            'rule': "rfm_class = '" ~ key ~ "'",
            'parent': 'customers',
            'priority': 800 + loop.index,
            'owner': 'crm',
            'channels': ['email', 'crm'],
        }) -%}
    {%- endfor -%}
    {%- for cluster in var('microseg__cluster_segments') -%}
        {%- do microseg.checked_segment_mapping(cluster, 'cluster segment') -%}
        {%- set label = microseg.checked_segment_key(cluster.get('label'), 'cluster label') -%}
        {%- do entries.append({
            'key': 'cluster_' ~ label,
            'name': 'Cluster: ' ~ label | replace('_', ' '),
            'description': cluster.get('description'),
            'rule': "cluster_label = '" ~ label ~ "'",
            'priority': 850 + loop.index,
            'owner': 'analytics',
            'channels': cluster.get('channels'),
            'max_share': cluster.get('max_share'),
        }) -%}
    {%- endfor -%}
    {%- for lookalike in var('microseg__lookalikes') -%}
        {%- do microseg.checked_segment_mapping(lookalike, 'lookalike') -%}
        {%- set key = microseg.checked_segment_key(lookalike.get('key'), 'lookalike') -%}
        {%- do entries.append({
            'key': key,
            'name': lookalike.get('name'),
            'description': lookalike.get('description'),
            'rule': 'is_lookalike_' ~ key,
            'priority': lookalike.get('priority'),
            'owner': lookalike.get('owner'),
            'channels': lookalike.get('channels'),
        }) -%}
    {%- endfor -%}

    {%- for entry in entries -%}
        {%- for field in required if entry.get(field) is none -%}
            {{ exceptions.raise_compiler_error(
                "segment '" ~ entry.get('key') ~ "' has no " ~ field) }}
        {%- endfor -%}
        {%- do microseg.checked_segment_key(entry.key, 'segment') -%}
    {%- endfor -%}
    {%- set keys = entries | map(attribute='key') | list -%}
    {%- set priorities = entries | map(attribute='priority') | list -%}
    {%- set columns = microseg.segment_rule_columns() if execute else [] -%}
    {%- set catalogue = [] -%}
    {%- for entry in entries -%}
        {%- set prefix = "segment '" ~ entry.key ~ "': " -%}
        {%- if keys.count(entry.key) > 1 -%}
            {{ exceptions.raise_compiler_error("segment key '" ~ entry.key ~ "' is used twice") }}
        {%- endif -%}
        {%- for field in ['name', 'description'] if entry[field] is not string or '\\' in entry[field] -%}
            {{ exceptions.raise_compiler_error(prefix ~ field ~ ' must be a string without backslashes') }}
        {%- endfor -%}
        {%- if entry.owner is not string
            or not modules.re.fullmatch('[A-Za-z0-9][A-Za-z0-9_.@ -]{0,62}', entry.owner) -%}
            {{ exceptions.raise_compiler_error(
                prefix ~ 'owner must be letters, digits, space, _ . @ or - (at most 63)') }}
        {%- endif -%}
        {%- if entry.priority is not integer -%}
            {{ exceptions.raise_compiler_error(prefix ~ 'priority ' ~ entry.priority ~ ' is not an integer') }}
        {%- endif -%}
        {%- if priorities.count(entry.priority) > 1 -%}
            {{ exceptions.raise_compiler_error(prefix ~ 'priority ' ~ entry.priority ~ ' is used twice') }}
        {%- endif -%}
        {#- Walk up the parents: each must exist, and the chain must not loop. -#}
        {%- set chain = namespace(parent=entry.get('parent'), seen=[entry.key]) -%}
        {%- for step in entries -%}
            {%- if chain.parent is none -%}
            {%- elif chain.parent not in keys -%}
                {{ exceptions.raise_compiler_error(prefix ~ "unknown parent '" ~ chain.parent ~ "'") }}
            {%- elif chain.parent in chain.seen -%}
                {{ exceptions.raise_compiler_error(
                    prefix ~ 'parents loop back (' ~ (chain.seen + [chain.parent]) | join(' -> ') ~ ')') }}
            {%- else -%}
                {%- set chain.seen = chain.seen + [chain.parent] -%}
                {%- set chain.parent = (entries | selectattr('key', 'equalto', chain.parent) | first).get('parent') -%}
            {%- endif -%}
        {%- endfor -%}
        {%- if entry.channels is string or entry.channels is mapping or entry.channels is not iterable -%}
            {{ exceptions.raise_compiler_error(prefix ~ 'channels must be a list') }}
        {%- endif -%}
        {%- for channel in entry.channels if channel not in channels_known -%}
            {{ exceptions.raise_compiler_error(
                "segment '" ~ entry.key ~ "': unknown channel '" ~ channel
                ~ "' (known: " ~ channels_known | join(', ') ~ ")") }}
        {%- endfor -%}
        {#- An explicit null takes the default, like an absent field. -#}
        {%- set settings = {} -%}
        {%- for field, default in [
            ('min_size', 'microseg__min_segment_size'),
            ('max_share', 'microseg__max_segment_share'),
            ('min_interactions', 'microseg__min_interactions'),
            ('holdout_percent', 'microseg__holdout_percent')] -%}
            {%- do settings.update({field: var(default) if entry.get(field) is none else entry[field]}) -%}
        {%- endfor -%}
        {%- if settings.min_size is not integer or settings.min_size < 1 -%}
            {{ exceptions.raise_compiler_error(prefix ~ 'min_size ' ~ settings.min_size ~ ' is not an integer >= 1') }}
        {%- endif -%}
        {%- if settings.max_share is not number or settings.max_share is boolean
            or not (0 < settings.max_share <= 1) -%}
            {{ exceptions.raise_compiler_error(prefix ~ 'max_share ' ~ settings.max_share ~ ' is not a number in (0, 1]') }}
        {%- endif -%}
        {%- if settings.min_interactions is not integer or settings.min_interactions < 0 -%}
            {{ exceptions.raise_compiler_error(
                prefix ~ 'min_interactions ' ~ settings.min_interactions ~ ' is not an integer >= 0') }}
        {%- endif -%}
        {%- if settings.holdout_percent is not number or settings.holdout_percent is boolean
            or not (0 <= settings.holdout_percent <= 50) -%}
            {{ exceptions.raise_compiler_error(
                prefix ~ 'holdout_percent ' ~ settings.holdout_percent ~ ' is not a number in [0, 50]') }}
        {%- endif -%}
        {%- if execute -%}
            {%- do microseg.check_segment_rule(entry.key, entry.rule, columns) -%}
        {%- endif -%}
        {%- do catalogue.append({
            'key': entry.key,
            'name': entry.name,
            'description': entry.description,
            'rule': entry.rule,
            'parent': entry.get('parent'),
            'priority': entry.priority,
            'owner': entry.owner,
            'channels': entry.channels,
            'min_size': settings.min_size,
            'max_share': settings.max_share,
            'min_interactions': settings.min_interactions,
            'holdout_percent': settings.holdout_percent,
        }) -%}
    {%- endfor -%}
    {{ return(catalogue) }}
{% endmacro %}


{#- `value` when it is a valid segment key (it names files and SQL), else a compiler error. -#}
{% macro checked_segment_key(value, what) %}
    {%- if value is not string or not modules.re.fullmatch('[a-z][a-z0-9_]{0,62}', value) -%}
        {{ exceptions.raise_compiler_error(what ~ " '" ~ value ~ "': a key must match ^[a-z][a-z0-9_]{0,62}$"
            ~ " (a lowercase letter, then lowercase letters, digits or _)") }}
    {%- endif -%}
    {{ return(value) }}
{% endmacro %}


{% macro checked_segment_mapping(value, what) %}
    {%- if value is not mapping -%}
        {{ exceptions.raise_compiler_error(what ~ ' ' ~ value ~ ' is not a mapping (key: value, ...)') }}
    {%- endif -%}
{% endmacro %}
