{#- Candidate users: one row per user with its anchor. `anchor` is
    "created_at" (the account's creation) or "first_paid" (the start of their
    first paid subscription; users never paid have no row). -#}
SELECT
    u.user_id AS entity_id,
    u.created_at,
{% if anchor == "first_paid" %}
    p.first_paid_at AS anchor_at,
{% else %}
    u.created_at AS anchor_at,
{% endif %}
    u.lang,
    u.country
FROM {{ table('users') }} u
{% if anchor == "first_paid" %}
JOIN (
    SELECT user_id, MIN(started_at) AS first_paid_at
    FROM {{ table('subscriptions') }} sub
    WHERE is_paid
    GROUP BY user_id
) p ON p.user_id = u.user_id
{% endif %}
