SELECT
  DATE_DIFF('SECOND', started_at, ended_at) / 3600.0 AS hours,
  DATE_DIFF('DAY', started_at, ended_at) AS days,
  MEDIAN(DATE_DIFF('SECOND', started_at, ended_at)) AS median_seconds
FROM cases
