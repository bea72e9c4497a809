{#- Any: every entity of the population is eligible. -#}
SELECT entity_id, TRUE AS eligible
FROM pipe_cohort
