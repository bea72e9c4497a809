{#- The most frequent event names, most frequent first, for messages. -#}
SELECT ev.event, COUNT(*) AS n
FROM {{ table('events') }} ev
WHERE ev.event IS NOT NULL
GROUP BY ev.event
ORDER BY n DESC, ev.event
LIMIT {{ limit | int }}
