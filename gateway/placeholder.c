/* placeholder */ typedef int gn__gateway_placeholder;
