SELECT
  QUANTILE_CONT(seconds, 0.9) AS p90,
  MEDIAN(seconds) AS p50
FROM durations
