SELECT
  COUNT(DISTINCT person_id) AS persons
FROM journey_events
WHERE
  `event` IN ('Order Completed', 'Product Viewed') AND `timestamp` >= '2026-03-01'
GROUP BY
  phase
