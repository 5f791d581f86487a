SELECT
  breached_at + MAKE_DT_INTERVAL(CAST(90 AS INT)) AS until
FROM breaches
