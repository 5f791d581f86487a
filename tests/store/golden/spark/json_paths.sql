WITH parsed AS (
  SELECT
    ARRAY(
      GET_JSON_OBJECT(context, '$.page.url'),
      GET_JSON_OBJECT(context, '$.campaign.source')
    ) AS c
  FROM events
)
SELECT
  COALESCE(c[0], 'none') AS url,
  c[1] AS source
FROM parsed
