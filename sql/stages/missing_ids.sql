{#- The ids of pipe_ids that are not in the entity's table. -#}
SELECT i.entity_id
FROM pipe_ids i
LEFT JOIN {{ table(entity ~ 's') }} t ON t.{{ key }} = i.entity_id
WHERE t.{{ key }} IS NULL
ORDER BY i.entity_id
