module gostd

go 1.19
