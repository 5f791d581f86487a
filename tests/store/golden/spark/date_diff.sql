SELECT
  (
    FLOOR(UNIX_MICROS(CAST(ended_at AS TIMESTAMP)) / 1000000) - FLOOR(UNIX_MICROS(CAST(started_at AS TIMESTAMP)) / 1000000)
  ) / CAST(3600.0 AS DOUBLE) AS hours,
  (
    DATEDIFF(CAST(ended_at AS DATE), CAST(started_at AS DATE))
  ) AS days,
  PERCENTILE(
    (
      FLOOR(UNIX_MICROS(CAST(ended_at AS TIMESTAMP)) / 1000000) - FLOOR(UNIX_MICROS(CAST(started_at AS TIMESTAMP)) / 1000000)
    ),
    0.5
  ) AS median_seconds
FROM cases
