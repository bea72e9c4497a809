{#- The scores that `pipe predict` wrote for one project and day. -#}
SELECT entity_id, score, threshold, model_sha
FROM {{ name }}
WHERE project = {{ param('project', project) }}
  AND day = CAST({{ param('day', day) }} AS DATE)
ORDER BY entity_id
