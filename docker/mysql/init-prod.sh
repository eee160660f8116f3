#!/bin/sh
# docker-compose.prod.yml: databases and least-privilege users for the two services, with the
# passwords of docker/prod/mysql.env (runs once, on an empty volume). Each service may only
# touch its own database: DML for the API and workers, plus the DDL its migrations need.
set -eu
mysql --protocol=socket -uroot -p"$MYSQL_ROOT_PASSWORD" <<SQL
CREATE DATABASE IF NOT EXISTS pms_db CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE DATABASE IF NOT EXISTS crm_db CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS 'pms'@'%' IDENTIFIED BY '${PMS_DB_PASSWORD}';
CREATE USER IF NOT EXISTS 'crm'@'%' IDENTIFIED BY '${CRM_DB_PASSWORD}';
GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, INDEX, DROP, REFERENCES ON pms_db.* TO 'pms'@'%';
GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, INDEX, DROP, REFERENCES ON crm_db.* TO 'crm'@'%';
FLUSH PRIVILEGES;
SQL
