-- One database per service (compose's PostgreSQL runs this once at first start).
CREATE DATABASE payments;
CREATE DATABASE coverage;
CREATE DATABASE autopay;
CREATE DATABASE notifications;
