{#- The salt for salted identifiers, from the MICROSEG_HASH_SALT environment variable.
    Never stored in the repo; a run that needs it fails with a clear message without it. -#}
{% macro hash_salt() %}
    {%- set salt = env_var('MICROSEG_HASH_SALT', '') -%}
    {%- if execute and salt | length < 16 -%}
        {{ exceptions.raise_compiler_error(
            'MICROSEG_HASH_SALT must be set to a secret of at least 16 characters '
            ~ '(the microseg CLI makes one per build directory)') }}
    {%- endif -%}
    {%- if "'" in salt -%}
        {{ exceptions.raise_compiler_error('MICROSEG_HASH_SALT must not contain quotes') }}
    {%- endif -%}
    {{ return(salt) }}
{% endmacro %}
