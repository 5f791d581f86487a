SELECT
  PERCENTILE(seconds, 0.9) AS p90,
  PERCENTILE(seconds, 0.5) AS p50
FROM durations
