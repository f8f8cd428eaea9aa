check_eq enabled "$(selected /sys/kernel/mm/transparent_hugepage/enabled)" never
check_eq defrag "$(selected /sys/kernel/mm/transparent_hugepage/defrag)" never
