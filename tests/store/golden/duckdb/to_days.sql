SELECT
  breached_at + TO_DAYS(CAST(90 AS INT)) AS until
FROM breaches
