{#- Compiles `pattern` with the engine's regular expressions; fails when it is invalid. -#}
{% import 'macros/dialect.sql' as d with context %}
SELECT {{ d.regex_search("''", param('pattern', pattern)) }} AS matched
