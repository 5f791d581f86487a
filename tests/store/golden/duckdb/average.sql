SELECT
  AVG(CASE WHEN score >= 9 THEN 1.0 ELSE 0.0 END) AS share,
  AVG(CAST(score AS DOUBLE)) AS mean
FROM answers
