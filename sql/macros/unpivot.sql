{#- unpivot(relation, alias, family, values): the tail of a feature family's
    query that turns one wide row per entity into long rows (entity_id,
    feature, value). `relation` is a CTE with an entity_id column, `values` a
    list of (name, SQL expression over `alias`); each entity gets one row per
    name whose value is not 0 (the sparse matrix cannot tell a stored 0 from
    a missing value), with the feature named `family__name`. It starts with a
    CTE, so it follows the family's last CTE and a comma. -#}
{% import 'macros/dialect.sql' as d with context %}
{% macro unpivot(relation, alias, family, values) %}
{% set value %}
CASE n.name
{% for name, expression in values %}
            WHEN '{{ name }}' THEN {{ expression }}
{% endfor %}
        END
{%- endset %}
names AS (
{% for name, _ in values %}
    SELECT '{{ name }}' AS name
{% if not loop.last %}
    UNION ALL
{% endif %}
{% endfor %}
)
SELECT
    {{ alias }}.entity_id,
    {{ d.concat("'" ~ family ~ "__'", 'n.name') }} AS feature,
    CAST({{ value }} AS DOUBLE) AS value
FROM {{ relation }} {{ alias }}
CROSS JOIN names n
WHERE {{ value }} <> 0
{% endmacro %}
