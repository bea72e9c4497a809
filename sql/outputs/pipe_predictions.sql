{#- Scores written by `pipe predict`, one row per (project, day, entity_id).
    `day` is the cutoff date of the scored entities; `predicted` is 1 when
    `score` is at or above `threshold`. -#}
CREATE TABLE IF NOT EXISTS {{ name }} (
    project VARCHAR NOT NULL,
    day DATE NOT NULL,
    entity_id BIGINT NOT NULL,
    score DOUBLE NOT NULL,
    predicted TINYINT NOT NULL,
    threshold DOUBLE NOT NULL,
    model_sha VARCHAR NOT NULL
)
