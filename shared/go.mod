module framecast.dev/shared

go 1.26
