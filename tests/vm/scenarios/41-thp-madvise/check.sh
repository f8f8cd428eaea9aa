check_eq enabled "$(selected /sys/kernel/mm/transparent_hugepage/enabled)" madvise
check_eq defrag "$(selected /sys/kernel/mm/transparent_hugepage/defrag)" defer+madvise
