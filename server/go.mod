module framecast.dev/server

go 1.26

require framecast.dev/shared v0.0.0

replace framecast.dev/shared => ../shared
