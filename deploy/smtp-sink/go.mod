module premiums/smtp-sink

go 1.21
