{#- The segment catalogue of models/intermediate/segments/_int_segments__catalogue.yml
    (the `meta` of int_segment_catalogue_rendered, read from the graph while executing) or
    the var `microseg__segment_catalogue` when given, with defaults filled in and checked;
    only the entries of `origin` when given. Raises a compiler error naming the entry when
    the catalogue is inconsistent or unsafe: keys match ^[a-z][a-z0-9_]{0,62}$, the numbers
    are in range, each origin's fields agree with its rule, and (while executing) every rule
    passes check_segment_rule. src/microseg/rules.py makes the same checks. -#}
{% macro segment_catalogue(origin=none) %}
    {%- set channels_known = ['email', 'ads', 'crm'] -%}
    {%- set required = ['key', 'name', 'description', 'rule', 'priority', 'owner', 'channels'] -%}
    {%- set entries = [] -%}
    {%- for entry in microseg.segment_catalogue_entries() -%}
        {%- do microseg.checked_segment_mapping(entry, 'segment') -%}
        {%- set expected = microseg.segment_origin_rule(entry) -%}
        {%- if expected is not none and entry.get('rule') != expected -%}
            {{ exceptions.raise_compiler_error("segment '" ~ entry.get('key') ~ "': its origin is "
                ~ entry.origin ~ ', so its rule must be ' ~ expected) }}
        {%- endif -%}
        {%- do entries.append(entry) -%}
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
            'origin': entry.origin,
            'rfm_class': entry.get('rfm_class'),
            'r': entry.get('r'),
            'fm': entry.get('fm'),
            'cluster_label': entry.get('cluster_label'),
            'seed_segment': entry.get('seed_segment'),
            'top_percent': entry.get('top_percent'),
            'top_n': entry.get('top_n'),
        }) -%}
    {%- endfor -%}
    {{ return(catalogue if origin is none else catalogue | selectattr('origin', 'equalto', origin) | list) }}
{% endmacro %}


{#- The catalogue's entries as written (unchecked): the var `microseg__segment_catalogue`
    when given, else the `meta` of int_segment_catalogue_rendered from the graph. Empty at
    parse time; a compiler error where there is no graph (unit tests must give the var). -#}
{% macro segment_catalogue_entries() %}
    {%- set given = var('microseg__segment_catalogue', none) -%}
    {%- if given is not none -%}
        {%- if given is string or given is mapping or given is not iterable -%}
            {{ exceptions.raise_compiler_error('microseg__segment_catalogue must be a list of segments') }}
        {%- endif -%}
        {{ return(given) }}
    {%- endif -%}
    {%- if not execute -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set node = graph.nodes.get('model.microseg.int_segment_catalogue_rendered')
        if graph.nodes is defined else none -%}
    {%- if node is none -%}
        {{ exceptions.raise_compiler_error('the segment catalogue (the meta of'
            ~ ' int_segment_catalogue_rendered) is not in the graph, as in unit tests:'
            ~ ' give the var microseg__segment_catalogue') }}
    {%- endif -%}
    {{ return(node.config.meta.get('segments') or []) }}
{% endmacro %}


{#- The rule an entry of `origin` rfm, cluster or lookalike must have, from its own fields
    (checked: they reach SQL too); none for a rule segment. Refuses an unknown origin. A
    lookalike takes its top_n members, or else its top_percent. -#}
{% macro segment_origin_rule(entry) %}
    {%- set origin = entry.get('origin') -%}
    {%- if origin == 'rule' -%}
        {{ return(none) }}
    {%- elif origin == 'rfm' -%}
        {%- set rfm_class = microseg.checked_segment_key(entry.get('rfm_class'), 'RFM class') -%}
        {%- for bound in [entry.get('r'), entry.get('fm')] -%}
            {%- if bound is string or bound is not iterable or bound | length != 2
                or bound | reject('integer') | list or not (1 <= bound[0] <= bound[1] <= 5) -%}
                {{ exceptions.raise_compiler_error(
                    "RFM class '" ~ rfm_class ~ "': r and fm must be [low, high] in 1-5") }}
            {%- endif -%}
        {%- endfor -%}
        {{ return("rfm_class = '" ~ rfm_class ~ "'") }}
    {%- elif origin == 'cluster' -%}
        {%- set label = microseg.checked_segment_key(entry.get('cluster_label'), 'cluster label') -%}
        {{ return("cluster_label = '" ~ label ~ "'") }}
    {%- elif origin == 'lookalike' -%}
        {%- set key = microseg.checked_segment_key(entry.get('key'), 'lookalike') -%}
        {%- do microseg.checked_segment_key(entry.get('seed_segment'), "lookalike '" ~ key ~ "': seed_segment") -%}
        {%- set top_n, top_percent = entry.get('top_n'), entry.get('top_percent') -%}
        {%- if top_n is not none and (top_n is not integer or top_n < 1) -%}
            {{ exceptions.raise_compiler_error("segment '" ~ key ~ "': top_n " ~ top_n ~ ' is not an integer >= 1') }}
        {%- elif top_n is none and (top_percent is not number or top_percent is boolean
            or not (0 < top_percent <= 100)) -%}
            {{ exceptions.raise_compiler_error(
                "segment '" ~ key ~ "': top_percent " ~ top_percent ~ ' is not a number in (0, 100]') }}
        {%- endif -%}
        {{ return('is_lookalike_' ~ key) }}
    {%- endif -%}
    {{ exceptions.raise_compiler_error("segment '" ~ entry.get('key') ~ "': origin '" ~ origin
        ~ "' is not one of rule, rfm, cluster, lookalike") }}
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
