-- Databases and least-privilege users for the two services (runs once, on an empty volume).
-- Each service may only touch its own database: DML for the API and workers, plus the DDL
-- its migrations need. Change the passwords (and the compose file) before production use.
CREATE DATABASE IF NOT EXISTS pms_db CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE DATABASE IF NOT EXISTS crm_db CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE USER IF NOT EXISTS 'pms'@'%' IDENTIFIED BY 'pms-password';
CREATE USER IF NOT EXISTS 'crm'@'%' IDENTIFIED BY 'crm-password';

GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, INDEX, DROP, REFERENCES ON pms_db.* TO 'pms'@'%';
GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, INDEX, DROP, REFERENCES ON crm_db.* TO 'crm'@'%';
FLUSH PRIVILEGES;
