WITH parsed AS (
  SELECT
    context ->> ['$.page.url', '$.campaign.source'] AS c
  FROM events
)
SELECT
  COALESCE(c[1], 'none') AS url,
  c[2] AS source
FROM parsed
