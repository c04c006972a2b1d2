module satchel.dev/desktop

go 1.26
