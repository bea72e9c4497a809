{#- A/B groups written by `pipe predict`, one row per (project, day, entity_id).
    An entity's group depends only on the project's salt and its id. -#}
CREATE TABLE IF NOT EXISTS {{ name }} (
    project VARCHAR NOT NULL,
    day DATE NOT NULL,
    entity_id BIGINT NOT NULL,
    ab_group VARCHAR NOT NULL
)
