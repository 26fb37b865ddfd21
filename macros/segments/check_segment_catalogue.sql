{#- Run as on-run-start: validates the segment catalogue before any model runs, so plain
    `dbt build` refuses a hostile catalogue as the microseg CLI does (src/microseg/rules.py,
    which holds the same lists: keep them alike). segment_catalogue does the checking, the
    rules included (check_segment_rule), so every model reading the catalogue gets it too. -#}
{% macro check_segment_catalogue() %}
    {%- if execute -%}
        {%- do microseg.segment_catalogue() -%}
    {%- endif %}
    select 1
{% endmacro %}


{#- The columns a rule may read: the documented columns of int_person_features and
    int_persons_scored (their YAML is the one list) and one is_lookalike_<key> flag per
    lookalike of the catalogue. Needs the graph, so only while executing; none (unknown) where the graph is
    empty, as in unit tests. -#}
{% macro segment_rule_columns() %}
    {%- if graph.nodes is not defined -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set columns = [] -%}
    {%- for model in ['int_person_features', 'int_persons_scored'] -%}
        {%- set node = graph.nodes.get('model.microseg.' ~ model) -%}
        {%- if node is none -%}
            {{ exceptions.raise_compiler_error('segment rules: model ' ~ model ~ ' is not in the project') }}
        {%- endif -%}
        {%- for name in node.columns -%}
            {%- do columns.append(name | lower) -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- for entry in microseg.segment_catalogue_entries() if entry.origin == 'lookalike' -%}
        {%- do columns.append('is_lookalike_' ~ entry.key) -%}
    {%- endfor -%}
    {{ return(columns) }}
{% endmacro %}


{#- Raises a compiler error naming the segment and the offending token unless `rule` is
    made of string literals ('' escapes), numbers, known columns, the keywords, type names
    (after `as` only) and functions (before `(` only) below, operators, balanced
    parentheses and commas. No `;`, comments, unclosed quotes, backslashes, `$` or braces,
    so the rule cannot leave the expression it is pasted into. With columns none (unit
    tests: no graph) any other word passes as a column, except those that start a query. -#}
{% macro check_segment_rule(key, rule, columns) %}
    {%- set functions = ['coalesce', 'nullif', 'least', 'greatest', 'abs', 'round', 'floor',
        'ceil', 'lower', 'upper', 'length', 'trim'] -%}
    {%- set keywords = ['and', 'or', 'not', 'is', 'null', 'in', 'between', 'like', 'ilike',
        'true', 'false', 'case', 'when', 'then', 'else', 'end', 'cast', 'as'] -%}
    {%- set type_names = ['integer', 'int', 'bigint', 'double', 'decimal', 'varchar', 'boolean',
        'date', 'timestamp'] -%}
    {%- set query_words = ['select', 'from', 'table', 'values', 'with', 'exists', 'pivot',
        'unpivot', 'summarize', 'describe', 'show'] -%}
    {%- set prefix = "segment '" ~ key ~ "': " -%}
    {%- if rule is not string or rule | trim == '' -%}
        {{ exceptions.raise_compiler_error(prefix ~ 'rule must be a non-empty string') }}
    {%- endif -%}
    {%- for character in [';', '\\', '$', '{', '}'] if character in rule -%}
        {{ exceptions.raise_compiler_error(prefix ~ "'" ~ character ~ "' is not allowed in a rule") }}
    {%- endfor -%}
    {%- set pattern = "(?P<space>[ \t\r\n]+)|(?P<string>'(?:[^']|'')*')|(?P<comment>--|/[*]|[*]/|//)"
        ~ "|(?P<number>[0-9]+(?:[.][0-9]+)?)|(?P<word>[A-Za-z_][A-Za-z0-9_]*)"
        ~ "|(?P<refused>==)|(?P<operator><=|>=|<>|!=|[-=<>+*/%(),])|(?P<other>.)" -%}
    {%- set tokens = [] -%}
    {%- for match in modules.re.finditer(pattern, rule) if match.lastgroup != 'space' -%}
        {%- do tokens.append({'kind': match.lastgroup, 'text': match.group(0)}) -%}
    {%- endfor -%}
    {%- set state = namespace(depth=0) -%}
    {%- for token in tokens -%}
        {%- set word = token.text | lower -%}
        {%- set before = loop.previtem.text | lower if loop.previtem is defined else '' -%}
        {%- set after = loop.nextitem.text if loop.nextitem is defined else '' -%}
        {%- if token.kind == 'comment' -%}
            {{ exceptions.raise_compiler_error(prefix ~ "comments ('" ~ token.text ~ "') are not allowed in a rule") }}
        {%- elif token.kind == 'other' and token.text == "'" -%}
            {{ exceptions.raise_compiler_error(prefix ~ "rule has a quote that does not close (')") }}
        {%- elif token.kind in ['refused', 'other'] -%}
            {{ exceptions.raise_compiler_error(prefix ~ "'" ~ token.text ~ "' is not allowed in a rule") }}
        {%- elif token.kind == 'word' -%}
            {%- if after == '(' and word not in functions + keywords + type_names -%}
                {{ exceptions.raise_compiler_error(prefix ~ "function '" ~ token.text
                    ~ "' is not allowed in a rule (allowed: " ~ functions | sort | join(', ') ~ ")") }}
            {%- elif word in functions and after != '(' -%}
                {{ exceptions.raise_compiler_error(prefix ~ "function '" ~ token.text ~ "' needs its arguments") }}
            {%- elif word == 'as' and after | lower not in type_names -%}
                {{ exceptions.raise_compiler_error(prefix ~ "'" ~ after ~ "' is not a type a rule may cast to"
                    ~ " (allowed: " ~ type_names | join(', ') ~ ")") }}
            {%- elif (word in type_names) != (before == 'as') -%}
                {{ exceptions.raise_compiler_error(prefix ~ "'" ~ token.text
                    ~ "' is not allowed in a rule (type names only in cast(... as <type>))") }}
            {%- elif word in query_words -%}
                {{ exceptions.raise_compiler_error(prefix ~ "'" ~ token.text ~ "' is not allowed in a rule") }}
            {%- elif columns is not none and word not in functions + keywords + type_names + columns -%}
                {{ exceptions.raise_compiler_error(prefix ~ "unknown column '" ~ token.text ~ "' in rule") }}
            {%- endif -%}
        {%- elif token.text == '(' -%}
            {%- set state.depth = state.depth + 1 -%}
        {%- elif token.text == ')' -%}
            {%- set state.depth = state.depth - 1 -%}
            {%- if state.depth < 0 -%}
                {{ exceptions.raise_compiler_error(prefix ~ "')' closes a parenthesis the rule did not open") }}
            {%- endif -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if state.depth != 0 -%}
        {{ exceptions.raise_compiler_error(prefix ~ "'(' is never closed in the rule") }}
    {%- endif -%}
{% endmacro %}
